//! Merge rules. A replica is the set of operations it has seen, folded into one register per
//! (entity, field). The same set of operations gives the same replica, whatever the order or
//! duplicates of delivery: last writer wins by HLC, and every overwritten value stays in history.

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use crate::hlc::Hlc;
use crate::model::{Entity, Field, MemberId, OpId, PlanId};
use crate::op::Op;

/// One value written to a field, with who wrote it and when.
#[derive(Clone, Debug, PartialEq)]
pub struct Write {
    pub op: OpId,
    pub hlc: Hlc,
    pub author: MemberId,
    pub value: Value,
    pub supersedes: Option<OpId>,
}

/// All writes ever made to one field, oldest first; the last is the current value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Register {
    writes: Vec<Write>,
}

impl Register {
    pub fn current(&self) -> &Write {
        self.writes
            .last()
            .expect("a register holds at least one write")
    }

    /// Overwritten values, oldest first.
    pub fn history(&self) -> &[Write] {
        &self.writes[..self.writes.len() - 1]
    }

    pub fn writes(&self) -> &[Write] {
        &self.writes
    }

    /// The two authors whose changes crossed, if the current value was written without its author
    /// having seen the value it overwrote.
    pub fn concurrent_change(&self) -> Option<(MemberId, MemberId)> {
        let [.., previous, current] = self.writes.as_slice() else {
            return None;
        };
        (current.supersedes != Some(previous.op)).then_some((previous.author, current.author))
    }

    fn insert(&mut self, write: Write) {
        let key = (write.hlc, write.op);
        let at = self.writes.partition_point(|w| (w.hlc, w.op) < key);
        self.writes.insert(at, write);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    New,
    /// Already seen: nothing changed.
    Duplicate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("this change belongs to another plan")]
pub struct WrongPlan;

/// A plan's merged operations.
#[derive(Clone, Debug)]
pub struct Replica {
    plan: PlanId,
    seen: HashSet<OpId>,
    registers: BTreeMap<(Entity, Field), Register>,
    latest: Hlc,
}

impl Replica {
    pub fn new(plan: PlanId) -> Self {
        Replica {
            plan,
            seen: HashSet::new(),
            registers: BTreeMap::new(),
            latest: Hlc::ZERO,
        }
    }

    /// A replica of `plan` with `ops` folded in, in any order; operations of another plan are
    /// left out (a device's log is read per plan, so there should be none).
    pub fn from_ops<'a>(plan: PlanId, ops: impl IntoIterator<Item = &'a Op>) -> Self {
        let mut replica = Replica::new(plan);
        for op in ops {
            let _ = replica.apply(op);
        }
        replica
    }

    pub fn plan_id(&self) -> PlanId {
        self.plan
    }

    /// Folds one operation in. Idempotent and commutative.
    pub fn apply(&mut self, op: &Op) -> Result<Applied, WrongPlan> {
        if op.plan != self.plan {
            return Err(WrongPlan);
        }
        if !self.seen.insert(op.id) {
            return Ok(Applied::Duplicate);
        }
        self.latest = self.latest.max(op.hlc);
        self.registers
            .entry((op.entity, op.field))
            .or_default()
            .insert(Write {
                op: op.id,
                hlc: op.hlc,
                author: op.author,
                value: op.value.clone(),
                supersedes: op.supersedes,
            });
        Ok(Applied::New)
    }

    pub fn contains(&self, op: OpId) -> bool {
        self.seen.contains(&op)
    }

    pub fn op_count(&self) -> usize {
        self.seen.len()
    }

    /// The newest timestamp seen, so a device's clock can be moved past it.
    pub fn latest(&self) -> Hlc {
        self.latest
    }

    pub fn register(&self, entity: Entity, field: Field) -> Option<&Register> {
        self.registers.get(&(entity, field))
    }

    pub fn get(&self, entity: Entity, field: Field) -> Option<&Value> {
        self.register(entity, field).map(|r| &r.current().value)
    }

    /// Every (entity, field) register, in a stable order.
    pub fn registers(&self) -> impl Iterator<Item = (&Entity, Field, &Register)> {
        self.registers.iter().map(|((e, f), r)| (e, *f, r))
    }

    /// Every entity with a field written, once each, in entity order.
    pub fn entities(&self) -> impl Iterator<Item = Entity> + '_ {
        let mut last = None;
        self.registers
            .keys()
            .map(|(e, _)| *e)
            .filter(move |e| last.replace(*e) != Some(*e))
    }

    /// Registers of one entity.
    pub fn fields_of(&self, entity: Entity) -> impl Iterator<Item = (Field, &Register)> {
        let from = (entity, Field::FIRST);
        self.registers
            .range(from..)
            .take_while(move |((e, _), _)| *e == entity)
            .map(|((_, f), r)| (*f, r))
    }

    /// Who changed what about one entity, oldest first (transparency for parents).
    pub fn history_of(&self, entity: Entity) -> Vec<(Field, &Write)> {
        let mut all: Vec<(Field, &Write)> = self
            .fields_of(entity)
            .flat_map(|(f, r)| r.writes().iter().map(move |w| (f, w)))
            .collect();
        all.sort_by_key(|(_, w)| (w.hlc, w.op));
        all
    }

    /// True if some field of `entity` holds a value that overwrote a concurrent change.
    pub fn has_concurrent_change(&self, entity: Entity) -> bool {
        self.fields_of(entity)
            .any(|(_, r)| r.concurrent_change().is_some())
    }
}

impl PartialEq for Replica {
    fn eq(&self, other: &Self) -> bool {
        self.plan == other.plan && self.seen == other.seen && self.registers == other.registers
    }
}
