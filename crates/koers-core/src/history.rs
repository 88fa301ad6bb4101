//! Who changed what and when, for the transparency screen: every party sees the same account,
//! including values that were overwritten.

use serde_json::Value;

use crate::hlc::Hlc;
use crate::model::{Entity, Field, MemberId, OpId};
use crate::replica::{Register, Replica, Write};

/// One value written to one field.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub field: Field,
    pub value: Value,
    pub author: MemberId,
    pub hlc: Hlc,
    /// The operation that made it; unique, so a stable key for lists.
    pub op: OpId,
    /// It is the field's value now; otherwise a later change overwrote it.
    pub current: bool,
    /// Its author had not seen the value it replaced: two people changed the field at once.
    pub concurrent: bool,
}

impl Change {
    fn new(field: Field, register: &Register, write: &Write) -> Change {
        let writes = register.writes();
        let at = writes
            .iter()
            .position(|w| w.op == write.op)
            .expect("the write is in its register");
        Change {
            field,
            value: write.value.clone(),
            author: write.author,
            hlc: write.hlc,
            op: write.op,
            current: at + 1 == writes.len(),
            concurrent: at > 0 && write.supersedes != Some(writes[at - 1].op),
        }
    }
}

/// Every change to `entity`, newest first.
pub fn history(replica: &Replica, entity: Entity) -> Vec<Change> {
    replica
        .history_of(entity)
        .into_iter()
        .rev()
        .map(|(field, write)| {
            let register = replica
                .register(entity, field)
                .expect("history comes from this register");
            Change::new(field, register, write)
        })
        .collect()
}

/// The `limit` most recent changes anywhere in the plan, newest first.
pub fn plan_history(replica: &Replica, limit: usize) -> Vec<(Entity, Change)> {
    let mut all: Vec<(&Entity, Field, &Register, &Write)> = replica
        .registers()
        .flat_map(|(e, f, r)| r.writes().iter().map(move |w| (e, f, r, w)))
        .collect();
    let newest_first = |a: &(&Entity, Field, &Register, &Write),
                        b: &(&Entity, Field, &Register, &Write)| {
        (b.3.hlc, b.3.op).cmp(&(a.3.hlc, a.3.op))
    };
    // Only the newest `limit` need sorting; a whole plan may hold thousands of writes.
    if limit < all.len() {
        all.select_nth_unstable_by(limit, newest_first);
        all.truncate(limit);
    }
    all.sort_unstable_by(newest_first);
    all.into_iter()
        .map(|(e, f, r, w)| (*e, Change::new(f, r, w)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{GoalId, GoalStatus, Role};
    use crate::{demo, Author, Edit, NodeId, Plan};
    use chrono::NaiveDate;
    use serde_json::json;
    use uuid::Uuid;

    const NOW: u64 = 1_795_000_000_000;

    fn demo_replica() -> Replica {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        Replica::from_ops(demo::PLAN, &demo::plan_ops(today))
    }

    /// `member` sets `field` of `entity` through the core, as the app does.
    fn change(
        r: &mut Replica,
        member: MemberId,
        n: u128,
        entity: Entity,
        field: Field,
        value: Value,
    ) {
        let plan = Plan::from_replica(r);
        let op = Author::new(member, NodeId(n as u64))
            .change(
                r,
                &plan,
                OpId(Uuid::from_u128(0xbeef_0000 + n)),
                NOW + n as u64,
                Edit {
                    entity,
                    field,
                    value,
                },
            )
            .unwrap();
        r.apply(&op).unwrap();
    }

    #[test]
    fn a_goal_shows_who_ticked_and_who_reopened_it_newest_first() {
        let mut r = demo_replica();
        let plan = Plan::from_replica(&r);
        let goal = plan.goals_of(Role::Parent).next().unwrap();
        let e = Entity::Goal(goal.id);
        let before = history(&r, e);
        assert!(before.iter().all(|c| c.current && !c.concurrent));
        assert!(before
            .iter()
            .any(|c| c.field == Field::Title && c.value == json!(goal.title)));

        change(
            &mut r,
            demo::PARENT,
            1,
            e,
            Field::Status,
            json!(GoalStatus::Done),
        );
        change(
            &mut r,
            demo::GUARDIAN,
            2,
            e,
            Field::Status,
            json!(GoalStatus::Open),
        );
        let after = history(&r, e);
        assert_eq!(after.len(), before.len() + 2);
        let (reopened, ticked) = (&after[0], &after[1]);
        assert_eq!(
            (reopened.author, &reopened.value, reopened.current),
            (demo::GUARDIAN, &json!("open"), true)
        );
        assert_eq!(
            (ticked.author, &ticked.value, ticked.current),
            (demo::PARENT, &json!("done"), false)
        );
        assert!(
            after.windows(2).all(|w| w[0].hlc > w[1].hlc),
            "newest first"
        );
        // The demo's own "open" is overwritten now; every other field still holds its value.
        let statuses: Vec<bool> = after
            .iter()
            .filter(|c| c.field == Field::Status)
            .map(|c| c.current)
            .collect();
        assert_eq!(statuses, [true, false, false]);
        assert!(!after.iter().any(|c| c.concurrent));
        assert_eq!(
            history(&r, Entity::Goal(GoalId(Uuid::from_u128(1)))),
            vec![]
        );
    }

    #[test]
    fn two_people_changing_a_field_at_once_is_marked() {
        let mut r = demo_replica();
        let plan = Plan::from_replica(&r);
        let goal = Entity::Goal(plan.goals[0].id);
        let base = r.clone();
        // Both start from the same plan: neither sees the other's title.
        let mut ops = vec![];
        for (n, member) in [(1u128, demo::WORKER), (2, demo::GUARDIAN)] {
            let edit = Edit::new(goal, Field::Title, format!("Titel {n}"));
            ops.push(
                Author::new(member, NodeId(n as u64))
                    .change(&base, &plan, OpId(Uuid::from_u128(n)), NOW + n as u64, edit)
                    .unwrap(),
            );
        }
        for op in &ops {
            r.apply(op).unwrap();
        }
        let titles: Vec<Change> = history(&r, goal)
            .into_iter()
            .filter(|c| c.field == Field::Title)
            .collect();
        assert_eq!(
            titles
                .iter()
                .map(|c| (c.author, c.current, c.concurrent))
                .collect::<Vec<_>>(),
            [
                (demo::GUARDIAN, true, true),
                (demo::WORKER, false, false),
                (demo::WORKER, false, false),
            ]
        );
    }

    #[test]
    fn the_plan_wide_list_holds_the_newest_changes_of_any_item() {
        let mut r = demo_replica();
        let plan = Plan::from_replica(&r);
        let goal = Entity::Goal(plan.goals[0].id);
        change(&mut r, demo::WORKER, 1, goal, Field::Priority, json!(7));
        change(
            &mut r,
            demo::WORKER,
            2,
            Entity::Plan,
            Field::ChildName,
            json!("Noa B."),
        );
        change(&mut r, demo::PARENT, 3, goal, Field::Status, json!("done"));

        let recent = plan_history(&r, 3);
        let seen: Vec<(Entity, Field, MemberId)> = recent
            .iter()
            .map(|(e, c)| (*e, c.field, c.author))
            .collect();
        assert_eq!(
            seen,
            [
                (goal, Field::Status, demo::PARENT),
                (Entity::Plan, Field::ChildName, demo::WORKER),
                (goal, Field::Priority, demo::WORKER),
            ]
        );
        let old_name = plan_history(&r, usize::MAX)
            .into_iter()
            .find(|(e, c)| *e == Entity::Plan && c.field == Field::ChildName && !c.current)
            .unwrap();
        assert_eq!(old_name.1.value, json!("Noa"));

        let all = plan_history(&r, usize::MAX);
        assert_eq!(all.len(), r.op_count());
        assert!(all
            .windows(2)
            .all(|w| (w[0].1.hlc, w[0].1.op) > (w[1].1.hlc, w[1].1.op)));
        assert_eq!(plan_history(&r, 40), all[..40].to_vec());
        assert_eq!(plan_history(&r, 0), vec![]);
    }
}
