//! The generated year plan: the figures it promises, and every change allowed as the server checks.

use chrono::NaiveDate;
use koers_core::*;

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()
}

#[test]
fn every_change_of_the_year_passes_the_servers_check_in_order() {
    let ops = year::year_plan(start());
    // A new plan starts from the founder's own role (POST /api/plans), then every op is checked.
    let mut replica = Replica::new(year::PLAN);
    let founder = &ops[0];
    assert_eq!(
        (founder.entity, founder.field),
        (Entity::Member(founder.author), Field::Role)
    );
    replica.apply(founder).unwrap();
    let mut plan = Plan::from_replica(&replica);
    let mut phases = vec![];
    for op in &ops {
        if let Err(refusal) = authorize(&plan, op) {
            panic!("{} {} {:?} refused: {refusal}", op.id, op.entity, op.field);
        }
        replica.apply(op).unwrap();
        if affects_authorization(op) {
            plan = Plan::from_replica(&replica);
            if phases.last() != Some(&plan.phase) {
                phases.push(plan.phase);
            }
        }
    }
    assert_eq!(phases, Phase::ALL.to_vec(), "every phase in turn");
    assert!(
        ops.windows(2).all(|w| w[0].hlc < w[1].hlc),
        "ops are in clock order"
    );

    let plan = Plan::from_replica(&replica);
    assert!((4_500..=5_500).contains(&ops.len()), "{} ops", ops.len());
    assert_eq!(replica.op_count(), ops.len(), "op ids are unique");
    assert_eq!(plan.members.len(), 12);
    for role in Role::ALL {
        assert!(plan.members.iter().any(|m| m.role == role), "{role:?}");
    }
    assert!(
        plan.members
            .iter()
            .filter(|m| m.role == Role::Parent)
            .count()
            >= 2
    );
    assert!(
        plan.members
            .iter()
            .filter(|m| m.role == Role::CareWorker)
            .count()
            >= 2
    );
    assert_eq!(plan.goals.len(), 50);
    assert_eq!(plan.contact_moments.len(), 600);
    assert_eq!(plan.evaluations.len(), 8);
    assert_eq!(plan.consents.len(), 12);
    assert_eq!(plan.phase, Phase::AfterCare);
    assert_eq!(
        plan.decision.as_ref().map(|d| d.outcome),
        Some(Perspective::Home)
    );
    assert!(plan.interventions.len() >= 3 && plan.network.len() >= 3);
    assert!(plan.comments.len() >= 100);

    let done = plan
        .goals
        .iter()
        .filter(|g| g.status == GoalStatus::Done)
        .count();
    assert!((10..40).contains(&done), "{done} goals done");
    let reopened = plan.goals.iter().filter(|g| {
        let writes = replica
            .register(Entity::Goal(g.id), Field::Status)
            .unwrap()
            .writes();
        writes.iter().any(|w| w.value == "done") && writes.len() > 2
    });
    assert!(reopened.count() >= 3, "some goals were done and re-opened");
    for status in [
        ContactStatus::Planned,
        ContactStatus::Happened,
        ContactStatus::Cancelled,
        ContactStatus::NoShow,
    ] {
        let n = plan
            .contact_moments
            .iter()
            .filter(|c| c.status == status)
            .count();
        assert!(n >= 20, "{n} contact moments {status:?}");
    }
    let cm = &plan.contact_moments;
    assert!(cm.iter().filter(|c| c.rating.is_some()).count() >= 300);
    assert!(cm.iter().filter(|c| c.note.is_some()).count() >= 200);
    assert!(cm.iter().filter(|c| c.parent_view.is_some()).count() >= 50);
    // Every later write saw the one before: no change is flagged as crossing another.
    assert!(plan.goals.iter().all(|g| !g.changed_concurrently));
    assert!(cm.iter().all(|c| !c.changed_concurrently));

    // A whole year moves to a fresh install intact.
    let at = chrono::DateTime::UNIX_EPOCH;
    let imported = export::import(&export::export(year::PLAN, &ops, at)).unwrap();
    assert_eq!(imported.ops, ops);
}

#[test]
fn the_same_start_gives_the_same_plan() {
    let a = year::year_plan(start());
    assert_eq!(a, year::year_plan(start()));
    let b = year::year_plan(start() + chrono::Days::new(1));
    assert_eq!(a.len(), b.len());
    assert_ne!(a[0].hlc, b[0].hlc);
}

#[test]
fn the_year_plan_under_new_ids_is_the_same_plan() {
    let start = chrono::NaiveDate::from_ymd_opt(2025, 11, 3).unwrap();
    let original = koers_core::year::year_plan(start);
    let mut n = 0u128;
    let renamed = koers_core::year::year_plan_with_ids(start, || {
        n += 1;
        uuid::Uuid::from_u128(n)
    });
    assert_eq!(renamed.len(), original.len());
    let plan = renamed[0].plan;
    assert!(renamed.iter().all(|op| op.plan == plan));
    let ids: std::collections::HashSet<_> = renamed.iter().map(|op| op.id).collect();
    assert_eq!(ids.len(), renamed.len(), "every op has its own new id");
    assert!(original.iter().all(|op| !ids.contains(&op.id)));
    // Supersedes point at an earlier op of the renamed plan.
    for (i, op) in renamed.iter().enumerate() {
        if let Some(old) = op.supersedes {
            assert!(renamed[..i].iter().any(|o| o.id == old), "{op:?}");
        }
    }
    let a =
        koers_core::Plan::from_replica(&koers_core::Replica::from_ops(original[0].plan, &original));
    let b = koers_core::Plan::from_replica(&koers_core::Replica::from_ops(plan, &renamed));
    assert_eq!(a.child_name, b.child_name);
    assert_eq!(a.goals.len(), b.goals.len());
    assert_eq!(a.contact_moments.len(), b.contact_moments.len());
}
