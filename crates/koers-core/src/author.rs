//! Making changes: turns "set this field to that" into a checked operation.

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

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
    restamp_refused(ops, unsent, refused, &[], node, now_millis)
}

/// [`restamp`] for every refusal of a timestamp at once: those refused as too far ahead
/// (`clock_ahead`, only once the clock reads right, as in [`restamp`]) and those refused as
/// unusable whatever the clock reads (`stale`: stamped before the plan was founded, or with a
/// counter at [`COUNTER_LIMIT`](crate::hlc::COUNTER_LIMIT)), which are restamped at once. All of
/// them in one go, so that they keep the order they were made in; the new timestamps come after
/// everything the device has seen (not counting the refused operations themselves, nor other
/// unsent ones stamped ahead) and have counters below the limit.
pub fn restamp_refused(
    ops: &[Op],
    unsent: &[OpId],
    clock_ahead: &[OpId],
    stale: &[OpId],
    node: NodeId,
    now_millis: u64,
) -> Vec<Op> {
    let ahead = |op: &Op| op.hlc.check_drift(now_millis).is_err();
    let due = |op: &Op| stale.contains(&op.id) || (clock_ahead.contains(&op.id) && ahead(op));
    let mut restamped: Vec<Op> = ops.iter().filter(|op| due(op)).cloned().collect();
    if restamped.is_empty() {
        return restamped;
    }
    restamped.sort_by_key(|op| op.hlc);
    // What is about to be restamped does not count as seen: a counter at the limit would push
    // the new stamps on for nothing, a stamp ahead would keep them ahead.
    let seen = ops
        .iter()
        .filter(|op| !(due(op) || (unsent.contains(&op.id) && ahead(op))))
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

/// This device's operations that the server refused because it holds another change under
/// their id (`reused`): the same changes (timestamp, value, what they overwrote) under new ids
/// from `new_id`, which must give fresh ones (a random UUID each). Operations not sent yet
/// (`unsent`) that name one of them as the value they overwrote are returned too, naming the
/// new id, or others would take them for changes made without seeing it. Operations already
/// sent stay as the server stored them. In the order of `ops`; the old ids are for the caller
/// to remove once the new ones are stored.
pub fn renew_ids(
    ops: &[Op],
    unsent: &[OpId],
    reused: &[OpId],
    mut new_id: impl FnMut() -> Uuid,
) -> Vec<Op> {
    // Only ids this device holds: an id it does not hold has nothing to carry a new one.
    let mut new_ids: Vec<(OpId, OpId)> = Vec::new();
    for op in ops {
        if reused.contains(&op.id) && !new_ids.iter().any(|(old, _)| *old == op.id) {
            new_ids.push((op.id, OpId(new_id())));
        }
    }
    let renewed = |id: OpId| {
        new_ids
            .iter()
            .find(|(old, _)| *old == id)
            .map(|(_, new)| *new)
    };
    ops.iter()
        .filter_map(|op| {
            let id = renewed(op.id);
            let supersedes = op.supersedes.and_then(renewed);
            if id.is_none() && !(supersedes.is_some() && unsent.contains(&op.id)) {
                return None;
            }
            let mut op = op.clone();
            op.id = id.unwrap_or(op.id);
            op.supersedes = supersedes.or(op.supersedes);
            Some(op)
        })
        .collect()
}
