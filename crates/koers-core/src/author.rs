//! Making changes: turns "set this field to that" into a checked operation.

use serde::Serialize;

use crate::hlc::{Clock, NodeId};
use crate::model::{Entity, Field, MemberId, OpId};
use crate::op::Op;
use crate::plan::Plan;
use crate::replica::Replica;
use crate::{authorize, Refusal};

/// One member writing on one device.
#[derive(Clone, Debug)]
pub struct Author {
    pub member: MemberId,
    clock: Clock,
}

impl Author {
    pub fn new(member: MemberId, node: NodeId) -> Self {
        Author { member, clock: Clock::new(node) }
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// A checked operation that sets `field` of `entity` to `value`. `id` must be fresh (a random
    /// UUID); `now_millis` is the device's wall clock. Nothing is applied: the caller stores the
    /// operation first, then applies it.
    pub fn change(
        &mut self,
        replica: &Replica,
        plan: &Plan,
        id: OpId,
        now_millis: u64,
        entity: Entity,
        field: Field,
        value: impl Serialize,
    ) -> Result<Op, Refusal> {
        // Order after everything this device has seen, even if its clock is behind.
        let latest = replica.latest();
        let _ = self.clock.observe(latest, latest.millis);
        let value = serde_json::to_value(value).map_err(|e| {
            Refusal::Invalid(crate::op::InvalidOp::BadValue { field, reason: e.to_string() })
        })?;
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
