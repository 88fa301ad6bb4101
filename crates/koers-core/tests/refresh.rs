//! Refreshing a derived plan for the entities just changed gives exactly the plan derived whole.

use chrono::NaiveDate;
use koers_core::op::entities_of;
use koers_core::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{json, Value};
use uuid::Uuid;

const PLAN: PlanId = PlanId(Uuid::from_u128(7));

fn uuid(kind: u128, n: u8) -> Uuid {
    Uuid::from_u128(kind << 8 | n as u128)
}

fn member(n: u8) -> MemberId {
    MemberId(uuid(1, n % 3))
}

fn goal(n: u8) -> GoalId {
    GoalId(uuid(2, n % 3))
}

fn intervention(n: u8) -> InterventionId {
    InterventionId(uuid(3, n % 2))
}

/// A few entities of every kind, so that ops pile up on the same ones.
fn entity(n: u8) -> Entity {
    let id = n / 16;
    match n % 16 {
        0 => Entity::Plan,
        1 => Entity::Decision,
        2 | 3 => Entity::Member(member(id)),
        4 => Entity::Consent(member(id)),
        5 => Entity::PhaseDates(Phase::ALL[id as usize % 2]),
        6 | 7 => Entity::Goal(goal(id)),
        8 | 9 | 15 => Entity::GoalComment(CommentId(uuid(4, id % 3))),
        10 | 11 => Entity::ContactMoment(ContactMomentId(uuid(5, id % 4))),
        12 => Entity::Evaluation(EvaluationId(uuid(6, id % 3))),
        13 => Entity::Intervention(intervention(id)),
        _ => Entity::NetworkPerson(NetworkPersonId(uuid(7, id % 2))),
    }
}

/// The fields written, the one that makes the item exist first. Some are not the entity's own
/// (a removed plan, an evaluation's parent view): a replica holds whatever it is sent.
fn fields(e: Entity) -> &'static [Field] {
    use Field as F;
    match e {
        Entity::Plan => &[
            F::ChildName,
            F::ChildBirthDate,
            F::StartDate,
            F::Phase,
            F::ContactPerson,
            F::IsExample,
            F::Deleted,
        ],
        Entity::Decision => &[F::Outcome, F::Reasons, F::Date],
        Entity::Member(_) => &[F::Role, F::Name, F::Phone, F::Deleted],
        Entity::Consent(_) => &[F::GivenAt],
        Entity::PhaseDates(_) => &[F::PlannedStart, F::ActualStart],
        Entity::Goal(_) => &[
            F::Owner,
            F::Priority,
            F::Status,
            F::Title,
            F::Deadline,
            F::Intervention,
            F::Deleted,
        ],
        Entity::GoalComment(_) => &[F::Text, F::Goal, F::Hidden, F::Deleted, F::Hidden],
        Entity::ContactMoment(_) => &[
            F::At,
            F::Status,
            F::ParentView,
            F::YouthView,
            F::ParentViewHidden,
            F::YouthViewHidden,
            F::Deleted,
            F::Kind,
            F::Attendees,
            F::Rating,
        ],
        Entity::Evaluation(_) => &[
            F::Date,
            F::YouthView,
            F::YouthViewHidden,
            F::Safety,
            F::Participants,
            F::ParentView,
            F::Deleted,
        ],
        Entity::Intervention(_) => &[F::Kind, F::Name, F::Status, F::HoursPerWeek, F::Deleted],
        Entity::NetworkPerson(_) => &[F::Name, F::Relation, F::Deleted],
    }
}

fn to_json(v: impl serde::Serialize) -> Value {
    serde_json::to_value(v).unwrap()
}

/// Values for a field: mostly valid ones (several equal, so that orders tie on the id), some
/// empty (a cleared view), some that do not parse (a newer app's, read as absent).
fn value(field: Field, n: u8) -> Value {
    use Field as F;
    let pick = |vs: Vec<Value>| vs[n as usize % vs.len()].clone();
    let text = || {
        pick(vec![
            json!("a"),
            json!("b"),
            json!(""),
            json!("  "),
            Value::Null,
        ])
    };
    let date = || pick(vec![json!("2026-03-01"), json!("2026-01-15"), Value::Null]);
    let time = || {
        pick(vec![
            json!("2026-03-01T14:30:00"),
            json!("2026-03-01T10:00:00"),
            json!("2026-02-01T10:00:00"),
            json!("tomorrow"),
        ])
    };
    match field {
        F::Deleted
        | F::Hidden
        | F::ParentViewHidden
        | F::YouthViewHidden
        | F::IsExample
        | F::ChildTookPart => pick(vec![json!(true), json!(false)]),
        F::ChildBirthDate | F::StartDate | F::PlannedStart | F::ActualStart => date(),
        F::Deadline | F::Date => date(),
        F::At | F::GivenAt => time(),
        F::Phase => pick(Phase::ALL.map(to_json).to_vec()),
        F::ContactPerson => pick(vec![to_json(member(n)), Value::Null]),
        F::Role | F::Owner => pick(vec![
            to_json(Role::Parent),
            to_json(Role::FosterCareWorker),
            to_json(Role::Youth),
            json!("king"),
        ]),
        F::Priority => pick(vec![json!(0), json!(1), json!(1), json!(-1)]),
        F::Status => pick(vec![
            json!("open"),
            json!("done"),
            json!("planned"),
            json!("happened"),
            json!("cancelled"),
            json!("running"),
        ]),
        F::Intervention => pick(vec![to_json(intervention(n)), Value::Null]),
        F::Goal => to_json(goal(n)),
        F::Kind => pick(vec![
            to_json(ContactKind::ALL[0]),
            to_json(ContactKind::ALL[1]),
            to_json(InterventionKind::ALL[0]),
            to_json(InterventionKind::ALL[1]),
        ]),
        F::Attendees | F::Participants => pick(vec![
            json!([]),
            to_json([Role::Parent]),
            to_json([Role::Parent, Role::Youth]),
        ]),
        F::DurationMinutes => pick(vec![json!(30), Value::Null]),
        F::Rating => pick(vec![json!(1), json!(5), Value::Null]),
        F::Safety | F::Development | F::Wellbeing => pick(vec![json!(1), json!(10), Value::Null]),
        F::HoursPerWeek => pick(vec![json!(1.5), json!(0)]),
        F::Outcome => pick(vec![
            to_json(Perspective::Home),
            to_json(Perspective::FosterFamily),
            Value::Null,
        ]),
        _ => text(),
    }
}

/// Ops with unique ids, clocks from a small range in any order (so a later op may land before
/// an earlier one in a register, and concurrent changes happen), three authors.
fn ops(max: usize) -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        (
            any::<u8>(),
            0u8..12,
            any::<u8>(),
            0u8..3,
            0u64..40,
            0u32..2,
            any::<bool>(),
        ),
        1..max,
    )
    .prop_map(|raw| {
        let mut ops: Vec<Op> = Vec::new();
        for (i, (e, f, v, author, millis, counter, link)) in raw.into_iter().enumerate() {
            let entity = entity(e);
            let fields = fields(entity);
            // Past the end: one of the first two, so that items come into being often.
            let field = fields
                .get(f as usize)
                .copied()
                .unwrap_or(fields[f as usize % 2.min(fields.len())]);
            let supersedes = link
                .then(|| {
                    ops.iter()
                        .rev()
                        .find(|o| o.entity == entity && o.field == field)
                        .map(|o| o.id)
                })
                .flatten();
            ops.push(Op {
                id: OpId(Uuid::from_u128(1_000 + i as u128)),
                plan: PLAN,
                hlc: Hlc {
                    millis,
                    counter,
                    node: NodeId(author as u64),
                },
                author: member(author),
                entity,
                field,
                value: value(field, v),
                supersedes,
            });
        }
        ops
    })
}

fn replica_of<'a>(ops: impl IntoIterator<Item = &'a Op>) -> Replica {
    Replica::from_ops(PLAN, ops)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn refreshing_what_a_batch_changed_equals_deriving_whole(
        ops in ops(120),
        split in any::<prop::sample::Index>(),
    ) {
        let split = split.index(ops.len() + 1);
        let (before, after) = ops.split_at(split);
        let mut r = replica_of(before);
        let mut plan = Plan::from_replica(&r);
        for op in after {
            r.apply(op).unwrap();
        }
        plan.refresh(&r, entities_of(after));
        prop_assert_eq!(plan, Plan::from_replica(&r));
    }

    #[test]
    fn refreshing_after_every_op_equals_deriving_whole_each_time(ops in ops(60)) {
        let mut r = Replica::new(PLAN);
        let mut plan = Plan::from_replica(&r);
        for op in &ops {
            r.apply(op).unwrap();
            plan.refresh(&r, [op.entity]);
            prop_assert_eq!(&plan, &Plan::from_replica(&r));
        }
    }
}

/// The generator above makes what the property is about, not only empty plans.
#[test]
fn the_generated_plans_hold_every_kind_of_item() {
    let mut runner = TestRunner::deterministic();
    let strategy = ops(120);
    let mut seen = [0usize; 12];
    for _ in 0..200 {
        let ops = strategy.new_tree(&mut runner).unwrap().current();
        let p = Plan::from_replica(&replica_of(&ops));
        let counts = [
            p.members.len(),
            p.former_members.len(),
            p.goals.len(),
            p.comments.len(),
            p.hidden_comments.len(),
            p.contact_moments.len(),
            p.evaluations.len(),
            p.interventions.len(),
            p.network.len(),
            p.consents.len(),
            p.decision.iter().count(),
            p.goals
                .windows(2)
                .filter(|g| g[0].priority == g[1].priority)
                .count(),
        ];
        for (seen, n) in seen.iter_mut().zip(counts) {
            *seen += (n > 0) as usize;
        }
    }
    assert!(
        seen.iter().all(|&n| n >= 20),
        "plans holding each kind: {seen:?}"
    );
}

#[test]
fn entities_of_ops_are_each_named_once_in_order() {
    let ops = year::year_plan(NaiveDate::from_ymd_opt(2026, 1, 5).unwrap());
    let entities = entities_of(&ops);
    assert!(entities.windows(2).all(|w| w[0] < w[1]));
    let replica = Replica::from_ops(year::PLAN, &ops);
    assert!(entities.len() > 700);
    assert!(entities.iter().copied().eq(replica.entities()));
}

/// A year's plan: a parent ticks off a goal, the worker moves another goal and a contact
/// moment and hides a comment; each time refreshing that one entity is the whole derivation.
#[test]
fn a_years_plan_refreshed_after_each_change_equals_deriving_whole() {
    let start = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
    let mut r = Replica::from_ops(year::PLAN, &year::year_plan(start));
    let mut plan = Plan::from_replica(&r);
    let parent = plan
        .members
        .iter()
        .find(|m| m.role == Role::Parent)
        .unwrap()
        .id;
    let worker = plan
        .members
        .iter()
        .find(|m| m.role == Role::FosterCareWorker)
        .unwrap()
        .id;
    let open = plan
        .goals_of(Role::Parent)
        .find(|g| g.status == GoalStatus::Open)
        .unwrap()
        .id;
    let last_goal = plan.goals.last().unwrap().id;
    let first_moment = plan.contact_moments[0].clone();
    let comment = plan.comments[0].id;
    let edits = [
        (
            parent,
            Edit::new(Entity::Goal(open), Field::Status, GoalStatus::Done),
        ),
        (
            worker,
            Edit::new(Entity::Goal(last_goal), Field::Priority, -1),
        ),
        (
            worker,
            Edit::new(
                Entity::ContactMoment(first_moment.id),
                Field::At,
                first_moment.at + chrono::Duration::days(200),
            ),
        ),
        (
            worker,
            Edit::new(Entity::GoalComment(comment), Field::Hidden, true),
        ),
    ];
    let mut now = r.latest().millis;
    for (n, (who, edit)) in edits.into_iter().enumerate() {
        now += 60_000;
        let op = Author::new(who, NodeId(42))
            .change(&r, &plan, OpId(Uuid::from_u128(n as u128 + 1)), now, edit)
            .unwrap();
        r.apply(&op).unwrap();
        plan.refresh(&r, [op.entity]);
        assert_eq!(
            plan,
            Plan::from_replica(&r),
            "after {} {:?}",
            op.entity,
            op.field
        );
    }
    assert_eq!(plan.goal(open).unwrap().status, GoalStatus::Done);
    assert_eq!(plan.goals[0].id, last_goal);
    assert_ne!(plan.contact_moments[0].id, first_moment.id);
    assert!(plan.hidden_comments.iter().any(|c| c.id == comment));
}
