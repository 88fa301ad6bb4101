//! Putting goals in order. A goal's place is its `priority` (lower comes first, ties by id), so a
//! move is one or more priority edits.

use crate::author::Edit;
use crate::model::{Entity, Field, GoalId};
use crate::plan::Plan;

/// The priority edits that swap `goal` with the goal above it (`up`) or below it. Empty if the
/// goal is unknown or already first (last). Two distinct priorities are swapped; if either is
/// shared with another goal, a swap could land the goal past a tie, so every goal is numbered
/// 1, 2, 3… in the new order instead (only the changed ones are edited).
pub fn move_goal(plan: &Plan, goal: GoalId, up: bool) -> Vec<Edit> {
    let goals = &plan.goals;
    let Some(at) = goals.iter().position(|g| g.id == goal) else {
        return vec![];
    };
    let other = if up {
        at.checked_sub(1)
    } else {
        Some(at + 1).filter(|i| *i < goals.len())
    };
    let Some(other) = other else {
        return vec![];
    };
    let edit = |id: GoalId, priority: i64| Edit::new(Entity::Goal(id), Field::Priority, priority);
    let (a, b) = (&goals[at], &goals[other]);
    let shared = |p: i64| goals.iter().filter(|g| g.priority == p).count() > 1;
    if !shared(a.priority) && !shared(b.priority) {
        return vec![edit(a.id, b.priority), edit(b.id, a.priority)];
    }
    let mut order: Vec<_> = goals.iter().collect();
    order.swap(at, other);
    order
        .into_iter()
        .zip(1..)
        .filter(|(g, priority)| g.priority != *priority)
        .map(|(g, priority)| edit(g.id, priority))
        .collect()
}

/// The priority for a new goal: after every goal there is.
pub fn next_priority(plan: &Plan) -> i64 {
    plan.goals
        .iter()
        .map(|g| g.priority)
        .max()
        .map_or(1, |p| p.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{GoalStatus, Role};
    use crate::plan::Goal;
    use crate::{demo, Plan, Replica};
    use chrono::NaiveDate;
    use uuid::Uuid;

    fn goal(n: u128, priority: i64) -> Goal {
        Goal {
            id: GoalId(Uuid::from_u128(n)),
            title: format!("Doel {n}"),
            description: None,
            owner: Role::Parent,
            priority,
            status: GoalStatus::Open,
            deadline: None,
            intervention: None,
            changed_concurrently: false,
        }
    }

    /// A plan with these goals, ordered as [`Plan::from_replica`] orders them.
    fn plan_with(goals: Vec<Goal>) -> Plan {
        let mut plan = Plan::from_replica(&Replica::new(demo::PLAN));
        plan.goals = goals;
        plan.goals.sort_by_key(|g| (g.priority, g.id));
        plan
    }

    /// The goals after applying `edits`, in their new order.
    fn applied(plan: &Plan, edits: &[Edit]) -> Vec<Goal> {
        let mut goals = plan.goals.clone();
        for e in edits {
            let Entity::Goal(id) = e.entity else {
                panic!("{e:?}")
            };
            assert_eq!(e.field, Field::Priority);
            goals.iter_mut().find(|g| g.id == id).unwrap().priority = e.value.as_i64().unwrap();
        }
        goals.sort_by_key(|g| (g.priority, g.id));
        goals
    }

    /// The goal order after applying `edits`, by number.
    fn after(plan: &Plan, edits: &[Edit]) -> Vec<u128> {
        applied(plan, edits)
            .iter()
            .map(|g| g.id.0.as_u128())
            .collect()
    }

    #[test]
    fn moving_a_goal_swaps_it_with_its_neighbour() {
        let plan = plan_with(vec![goal(1, 10), goal(2, 20), goal(3, 30)]);
        let up = move_goal(&plan, GoalId(Uuid::from_u128(3)), true);
        assert_eq!(up.len(), 2, "only the two goals change");
        assert_eq!(after(&plan, &up), [1, 3, 2]);
        assert_eq!(
            after(&plan, &move_goal(&plan, GoalId(Uuid::from_u128(1)), false)),
            [2, 1, 3]
        );
        // The first cannot go up, the last not down, and an unknown goal does nothing.
        assert_eq!(move_goal(&plan, GoalId(Uuid::from_u128(1)), true), vec![]);
        assert_eq!(move_goal(&plan, GoalId(Uuid::from_u128(3)), false), vec![]);
        assert_eq!(move_goal(&plan, GoalId(Uuid::from_u128(9)), true), vec![]);
    }

    #[test]
    fn goals_with_equal_priorities_still_move_one_place() {
        // All equal: ordered by id.
        let plan = plan_with(vec![goal(1, 5), goal(2, 5), goal(3, 5), goal(4, 5)]);
        let edits = move_goal(&plan, GoalId(Uuid::from_u128(3)), true);
        assert_eq!(after(&plan, &edits), [1, 3, 2, 4]);
        // A swap of 1 and 2 would put goal 1 after goal 3 (tie by id): every goal is renumbered.
        let plan = plan_with(vec![goal(3, 1), goal(1, 2), goal(2, 2), goal(4, 3)]);
        let edits = move_goal(&plan, GoalId(Uuid::from_u128(3)), false);
        assert_eq!(after(&plan, &edits), [1, 3, 2, 4]);
        let mut priorities: Vec<i64> = applied(&plan, &edits).iter().map(|g| g.priority).collect();
        priorities.dedup();
        assert_eq!(
            priorities.len(),
            4,
            "no two goals share a priority any more"
        );
    }

    #[test]
    fn every_goal_of_the_example_plan_moves_down_one_place() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let plan = Plan::from_replica(&Replica::from_ops(demo::PLAN, &demo::plan_ops(today)));
        let order: Vec<u128> = plan.goals.iter().map(|g| g.id.0.as_u128()).collect();
        for (i, g) in plan.goals.iter().enumerate().take(plan.goals.len() - 1) {
            let down = move_goal(&plan, g.id, false);
            let mut expected = order.clone();
            expected.swap(i, i + 1);
            assert_eq!(after(&plan, &down), expected);
        }
    }

    #[test]
    fn a_new_goal_goes_last() {
        assert_eq!(next_priority(&plan_with(vec![])), 1);
        assert_eq!(
            next_priority(&plan_with(vec![goal(1, 4), goal(2, 9), goal(3, 2)])),
            10
        );
    }
}
