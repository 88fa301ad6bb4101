//! Starting a new plan: the foster-care worker's first operations.

use serde::Serialize;
use uuid::Uuid;

use crate::hlc::Clock;
use crate::model::*;
use crate::op::Op;

/// What the worker fills in to start a plan.
#[derive(Clone, Debug, PartialEq)]
pub struct NewPlan {
    pub child_name: String,
    pub start_date: Date,
    pub founder_name: String,
    /// The other parties, by name and role.
    pub members: Vec<(String, Role)>,
}

/// The operations that found a plan: the founder (a foster-care worker, and the fixed contact
/// person) first, then the other members, then the plan itself, in phase 0. `new_id` gives fresh
/// random ids; the founder is the first id drawn after the plan's.
pub fn plan_ops(
    new: &NewPlan,
    clock: &mut Clock,
    now_millis: u64,
    mut new_id: impl FnMut() -> Uuid,
) -> (PlanId, MemberId, Vec<Op>) {
    let plan = PlanId(new_id());
    let founder = MemberId(new_id());
    let mut ops = Vec::new();
    let mut set = |entity: Entity, field: Field, value: serde_json::Value, id: Uuid| {
        ops.push(Op {
            id: OpId(id),
            plan,
            hlc: clock.tick(now_millis),
            author: founder,
            entity,
            field,
            value,
            supersedes: None,
        });
    };
    let me = Entity::Member(founder);
    set(me, Field::Name, json(new.founder_name.trim()), new_id());
    set(me, Field::Role, json(Role::FosterCareWorker), new_id());
    for (name, role) in &new.members {
        let m = Entity::Member(MemberId(new_id()));
        set(m, Field::Name, json(name.trim()), new_id());
        set(m, Field::Role, json(role), new_id());
    }
    set(
        Entity::Plan,
        Field::ChildName,
        json(new.child_name.trim()),
        new_id(),
    );
    set(
        Entity::Plan,
        Field::StartDate,
        json(new.start_date),
        new_id(),
    );
    set(Entity::Plan, Field::Phase, json(Phase::Mandate), new_id());
    set(
        Entity::Plan,
        Field::ContactPerson,
        json(Some(founder)),
        new_id(),
    );
    (plan, founder, ops)
}

fn json(value: impl Serialize) -> serde_json::Value {
    serde_json::to_value(value).expect("domain values serialize")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{authorize, Plan, Replica};
    use chrono::NaiveDate;

    #[test]
    fn a_founded_plan_has_its_members_the_worker_as_contact_and_passes_every_check() {
        let new = NewPlan {
            child_name: " Sam ".into(),
            start_date: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
            founder_name: "Lotte".into(),
            members: vec![
                ("Mirjam".into(), Role::Parent),
                ("Fam. Bakker".into(), Role::FosterParent),
            ],
        };
        let mut n = 0u128;
        let (plan_id, founder, ops) =
            plan_ops(&new, &mut Clock::new(crate::NodeId(1)), 1_000, || {
                n += 1;
                Uuid::from_u128(n)
            });
        assert!(ops.windows(2).all(|w| w[0].hlc < w[1].hlc));
        // As the server checks a founding batch: member ops first, then each op against the plan so far.
        let mut replica = Replica::new(plan_id);
        let (members, rest): (Vec<&Op>, Vec<&Op>) = ops
            .iter()
            .partition(|o| matches!(o.entity, Entity::Member(_)));
        for op in members {
            replica.apply(op).unwrap();
        }
        for op in rest {
            authorize(&Plan::from_replica(&replica), op).unwrap();
            replica.apply(op).unwrap();
        }
        let plan = Plan::from_replica(&replica);
        assert_eq!(plan.child_name, "Sam");
        assert_eq!(plan.phase, Phase::Mandate);
        assert_eq!(plan.members.len(), 3);
        assert_eq!(
            plan.contact_person().map(|m| (m.id, m.role)),
            Some((founder, Role::FosterCareWorker))
        );
        assert!(plan.consents.is_empty());
    }
}
