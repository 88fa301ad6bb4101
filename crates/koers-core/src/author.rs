//! Making changes: turns "set this field to that" into a checked operation.

use serde::Serialize;
use serde_json::Value;

use crate::hlc::{Clock, NodeId};
use crate::model::{Entity, Field, MemberId, OpId};
use crate::op::Op;
use crate::plan::Plan;
use crate::replica::Replica;
use crate::{authorize, Refusal};

/// One field to set: what a screen asks for.
#[derive(Clone, Debug, PartialEq)]
pub struct Edit {
    pub entity: Entity,
    pub field: Field,
    pub value: Value,
}

impl Edit {
    pub fn new(entity: Entity, field: Field, value: impl Serialize) -> Edit {
        Edit {
            entity,
            field,
            value: serde_json::to_value(value).expect("domain values serialize to JSON"),
        }
    }
}

/// One member writing on one device.
#[derive(Clone, Debug)]
pub struct Author {
    pub member: MemberId,
    clock: Clock,
}

impl Author {
    pub fn new(member: MemberId, node: NodeId) -> Self {
        Author {
            member,
            clock: Clock::new(node),
        }
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// A checked operation that makes `edit`. `id` must be fresh (a random UUID); `now_millis`
    /// is the device's wall clock. Nothing is applied: the caller stores the operation first,
    /// then applies it.
    pub fn change(
        &mut self,
        replica: &Replica,
        plan: &Plan,
        id: OpId,
        now_millis: u64,
        edit: Edit,
    ) -> Result<Op, Refusal> {
        // Order after everything this device has seen, even if its clock is behind.
        let latest = replica.latest();
        let _ = self.clock.observe(latest, latest.millis);
        let Edit {
            entity,
            field,
            value,
        } = edit;
        let op = Op {
            id,
            plan: replica.plan_id(),
            hlc: self.clock.tick(now_millis),
            author: self.member,
            entity,
            field,
            value,
            supersedes: replica.register(entity, field).map(|r| r.current().op),
        };
        authorize(plan, &op)?;
        Ok(op)
    }
}
