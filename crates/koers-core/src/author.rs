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

/// New timestamps for this device's operations that the server refused as stamped too far
/// ahead (`refused`). If they are still ahead of the clock as it reads now (`now_millis`), the
/// clock has since been set right: each gets a new timestamp, after everything the device has
/// seen and in the order they were made, so it can be sent now instead of once real time
/// catches up. The server stored none of them, so nothing anyone saw changes; ids, authors and
/// values stay. Other unsent operations stamped ahead (`unsent`) are left for their own refusal
/// and do not count as seen. Empty if the clock still runs ahead.
pub fn restamp(
    ops: &[Op],
    unsent: &[OpId],
    refused: &[OpId],
    node: NodeId,
    now_millis: u64,
) -> Vec<Op> {
    let ahead = |op: &Op| op.hlc.check_drift(now_millis).is_err();
    let mut restamped: Vec<Op> = ops
        .iter()
        .filter(|op| refused.contains(&op.id) && ahead(op))
        .cloned()
        .collect();
    if restamped.is_empty() {
        return restamped;
    }
    restamped.sort_by_key(|op| op.hlc);
    let seen = ops
        .iter()
        .filter(|op| !(unsent.contains(&op.id) && ahead(op)))
        .map(|op| op.hlc)
        .max();
    let mut clock = Clock::new(node);
    if let Some(latest) = seen {
        let _ = clock.observe(latest, latest.millis);
    }
    for op in &mut restamped {
        op.hlc = clock.tick(now_millis);
    }
    restamped
}
