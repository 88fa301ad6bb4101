//! The method's rules and the permission check, on the example plan.

use chrono::{Days, NaiveDate};
use koers_core::rules::{self, Deadline};
use koers_core::*;
use serde_json::json;
use uuid::Uuid;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn demo() -> (Replica, Plan) {
    let mut r = Replica::new(demo::PLAN);
    for op in demo::plan_ops(today()) {
        r.apply(&op).unwrap();
    }
    let p = Plan::from_replica(&r);
    (r, p)
}

fn op_id(n: u128) -> OpId {
    OpId(Uuid::from_u128(0xfeed_0000 + n))
}

const NOW: u64 = 1_795_000_000_000;

#[test]
fn the_example_plan_reads_as_a_plan_in_phase_two() {
    let (_, p) = demo();
    assert!(p.is_example);
    assert_eq!(p.child_name, "Noa");
    assert_eq!(p.phase, Phase::Execution);
    assert_eq!(p.members.len(), 5);
    assert_eq!(p.consents.len(), 5);
    assert_eq!(p.contact_person().unwrap().name, "Lotte de Vries");
    assert_eq!(p.goals_of(Role::Parent).count(), 4);
    assert!(p.goals.windows(2).all(|w| w[0].priority <= w[1].priority));
    assert_eq!(p.contact_moments.len(), 5);
    assert!(p.contact_moments.windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(p.evaluations.len(), 2);
    assert_eq!(
        rules::deadline(&p, today()),
        Some(Deadline::OnTrack { days_left: 225 })
    );
}

#[test]
fn what_comes_next_is_the_first_planned_contact_moment_not_yet_past() {
    let (_, p) = demo();
    let planned = p
        .contact_moments
        .iter()
        .find(|c| c.status == ContactStatus::Planned)
        .unwrap();
    // From before the cancelled video call and the visits that happened: those are passed over.
    let earlier = (today() - Days::new(30)).and_hms_opt(0, 0, 0).unwrap();
    assert_eq!(
        p.next_planned_contact(earlier).map(|c| c.id),
        Some(planned.id)
    );
    assert_eq!(
        p.next_planned_contact(planned.at).map(|c| c.id),
        Some(planned.id)
    );
    assert!(p
        .next_planned_contact(planned.at + chrono::Duration::minutes(1))
        .is_none());
}

#[test]
fn a_parent_ticks_off_their_own_goal_but_not_another_partys() {
    let (r, p) = demo();
    let mut parent = Author::new(demo::PARENT, NodeId(1));
    let own = p.goals_of(Role::Parent).next().unwrap().id;
    let op = parent
        .change(
            &r,
            &p,
            op_id(1),
            NOW,
            Edit::new(Entity::Goal(own), Field::Status, GoalStatus::Done),
        )
        .unwrap();
    assert_eq!(authorize(&p, &op), Ok(Action::TickOwnGoal));
    assert!(op.hlc > r.latest());

    let other = p.goals_of(Role::Guardian).next().unwrap().id;
    let refused = parent.change(
        &r,
        &p,
        op_id(2),
        NOW,
        Edit::new(Entity::Goal(other), Field::Status, GoalStatus::Done),
    );
    assert_eq!(
        refused,
        Err(Refusal::NotAllowed {
            role: Role::Parent,
            action: Action::TickOtherGoal
        })
    );
    let refused = parent.change(
        &r,
        &p,
        op_id(3),
        NOW,
        Edit::new(Entity::Plan, Field::Phase, Phase::StrengtheningHome),
    );
    assert!(matches!(
        refused,
        Err(Refusal::NotAllowed {
            action: Action::ChangePhase,
            ..
        })
    ));
    let refused = parent.change(
        &r,
        &p,
        op_id(4),
        NOW,
        Edit::new(Entity::Decision, Field::Outcome, Perspective::Home),
    );
    assert!(matches!(
        refused,
        Err(Refusal::NotAllowed {
            action: Action::RecordDecision,
            ..
        })
    ));
}

#[test]
fn a_foster_parent_logs_a_visit_and_the_parent_adds_their_view() {
    let (mut r, p) = demo();
    let mut foster = Author::new(demo::FOSTER_PARENT, NodeId(2));
    let visit = Entity::ContactMoment(ContactMomentId(Uuid::from_u128(77)));
    let at = today().and_hms_opt(15, 0, 0).unwrap();
    let op = foster
        .change(&r, &p, op_id(1), NOW, Edit::new(visit, Field::At, at))
        .unwrap();
    r.apply(&op).unwrap();
    let p = Plan::from_replica(&r);
    assert_eq!(
        p.contact_moment(ContactMomentId(Uuid::from_u128(77)))
            .unwrap()
            .logged_by,
        demo::FOSTER_PARENT
    );

    let mut parent = Author::new(demo::PARENT, NodeId(1));
    assert!(parent
        .change(
            &r,
            &p,
            op_id(2),
            NOW,
            Edit::new(visit, Field::ParentView, Some("Fijn"))
        )
        .is_ok());
    assert!(matches!(
        parent.change(
            &r,
            &p,
            op_id(3),
            NOW,
            Edit::new(visit, Field::Note, Some("x"))
        ),
        Err(Refusal::NotAllowed {
            action: Action::LogContactMoment,
            ..
        })
    ));
}

#[test]
fn strangers_bad_values_and_other_plans_are_refused() {
    let (r, p) = demo();
    let mut stranger = Author::new(MemberId(Uuid::from_u128(12345)), NodeId(9));
    assert_eq!(
        stranger
            .change(
                &r,
                &p,
                op_id(1),
                NOW,
                Edit::new(Entity::Plan, Field::ChildName, "X")
            )
            .unwrap_err(),
        Refusal::NotAMember
    );
    let mut worker = Author::new(demo::WORKER, NodeId(3));
    let cm = Entity::ContactMoment(ContactMomentId(Uuid::from_u128(5)));
    assert!(matches!(
        worker.change(&r, &p, op_id(2), NOW, Edit::new(cm, Field::Rating, 9)),
        Err(Refusal::Invalid(InvalidOp::BadValue { .. }))
    ));
    let mut op = worker
        .change(
            &r,
            &p,
            op_id(3),
            NOW,
            Edit::new(Entity::Plan, Field::ChildName, "Noa B."),
        )
        .unwrap();
    op.plan = PlanId(Uuid::from_u128(1));
    assert_eq!(authorize(&p, &op), Err(Refusal::WrongPlan));
    op.plan = p.id;
    op.value = json!(12);
    assert!(matches!(authorize(&p, &op), Err(Refusal::Invalid(_))));
}

#[test]
fn goals_are_drawn_up_only_after_every_party_consented() {
    let (mut r, _) = demo();
    let mut worker = Author::new(demo::WORKER, NodeId(3));
    // Back to a fresh plan in phase 0 with one consent withdrawn.
    let p = Plan::from_replica(&r);
    for (n, (e, f, v)) in [
        (Entity::Plan, Field::Phase, json!("mandate")),
        (Entity::Consent(demo::PARENT), Field::GivenAt, json!(null)),
    ]
    .into_iter()
    .enumerate()
    {
        let op = Op {
            id: op_id(100 + n as u128),
            plan: p.id,
            hlc: Hlc {
                millis: NOW,
                counter: n as u32,
                node: NodeId(3),
            },
            author: demo::WORKER,
            entity: e,
            field: f,
            value: v,
            supersedes: None,
        };
        r.apply(&op).unwrap();
    }
    let p = Plan::from_replica(&r);
    assert_eq!(p.phase, Phase::Mandate);
    assert_eq!(
        worker.change(
            &r,
            &p,
            op_id(1),
            NOW + 10,
            Edit::new(Entity::Plan, Field::Phase, Phase::Goals)
        ),
        Err(Refusal::Phase(PhaseError::ConsentMissing {
            missing: vec![demo::PARENT]
        }))
    );
    let mut parent = Author::new(demo::PARENT, NodeId(1));
    let consent = parent
        .change(
            &r,
            &p,
            op_id(2),
            NOW + 20,
            Edit::new(
                Entity::Consent(demo::PARENT),
                Field::GivenAt,
                Some(today().and_hms_opt(9, 0, 0).unwrap()),
            ),
        )
        .unwrap();
    r.apply(&consent).unwrap();
    let p = Plan::from_replica(&r);
    assert!(worker
        .change(
            &r,
            &p,
            op_id(3),
            NOW + 30,
            Edit::new(Entity::Plan, Field::Phase, Phase::Goals)
        )
        .is_ok());
    assert!(matches!(
        worker.change(
            &r,
            &p,
            op_id(4),
            NOW + 30,
            Edit::new(Entity::Plan, Field::Phase, Phase::Execution)
        ),
        Err(Refusal::Phase(PhaseError::NotNextPhase { .. }))
    ));
}

#[test]
fn phase_three_needs_a_decision_for_home() {
    let (mut r, p) = demo();
    let mut guardian = Author::new(demo::GUARDIAN, NodeId(4));
    assert_eq!(
        guardian.change(
            &r,
            &p,
            op_id(1),
            NOW,
            Edit::new(Entity::Plan, Field::Phase, Phase::StrengtheningHome)
        ),
        Err(Refusal::Phase(PhaseError::NoDecision))
    );
    let decide = |r: &mut Replica, g: &mut Author, n: u128, outcome: Perspective| {
        let p = Plan::from_replica(r);
        let op = g
            .change(
                r,
                &p,
                op_id(n),
                NOW + n as u64,
                Edit::new(Entity::Decision, Field::Outcome, Some(outcome)),
            )
            .unwrap();
        r.apply(&op).unwrap();
        Plan::from_replica(r)
    };
    let p = decide(&mut r, &mut guardian, 2, Perspective::FosterFamily);
    assert_eq!(rules::deadline(&p, today()), Some(Deadline::Decided));
    assert_eq!(
        guardian.change(
            &r,
            &p,
            op_id(3),
            NOW + 3,
            Edit::new(Entity::Plan, Field::Phase, Phase::StrengtheningHome)
        ),
        Err(Refusal::Phase(PhaseError::DecisionNotHome))
    );
    let p = decide(&mut r, &mut guardian, 4, Perspective::Home);
    assert!(guardian
        .change(
            &r,
            &p,
            op_id(5),
            NOW + 5,
            Edit::new(Entity::Plan, Field::Phase, Phase::StrengtheningHome)
        )
        .is_ok());
}

#[test]
fn the_deadline_warns_sixty_days_ahead_and_after_it_passed() {
    let (_, p) = demo();
    let deadline = rules::perspective_deadline(&p).unwrap();
    assert_eq!(deadline, p.start_date.unwrap() + Days::new(365));
    assert_eq!(
        rules::deadline(&p, deadline - Days::new(61)),
        Some(Deadline::OnTrack { days_left: 61 })
    );
    assert_eq!(
        rules::deadline(&p, deadline - Days::new(60)),
        Some(Deadline::Nearing { days_left: 60 })
    );
    assert_eq!(
        rules::deadline(&p, deadline + Days::new(2)),
        Some(Deadline::Passed { days_over: 2 })
    );
}

#[test]
fn evaluations_are_due_three_months_after_the_last() {
    let (_, p) = demo();
    let last = p.evaluations.last().unwrap().date;
    let due = rules::next_evaluation_due(&p).unwrap();
    assert_eq!(
        due,
        last.checked_add_months(chrono::Months::new(3)).unwrap()
    );
    assert!(!rules::evaluation_overdue(&p, due));
    assert!(rules::evaluation_overdue(&p, due + Days::new(1)));
}

#[test]
fn a_big_change_brings_the_next_evaluation_forward() {
    let (_, mut p) = demo();
    let last = p.evaluations.last().unwrap().date;
    let regular = last.checked_add_months(chrono::Months::new(3)).unwrap();
    // The decision, taken a week after the last evaluation: evaluate within two weeks of it.
    let decided = last + Days::new(7);
    p.decision = Some(plan::PerspectiveDecision {
        outcome: Perspective::Home,
        reasons: None,
        date: Some(decided),
        recorded_by: p.members[0].id,
    });
    assert_eq!(
        rules::next_evaluation_due(&p),
        Some(decided + Days::new(14))
    );
    // A new phase later still moves it again.
    let moved = last + Days::new(30);
    p.phase_dates
        .entry(Phase::StrengtheningHome)
        .or_default()
        .actual_start = Some(moved);
    assert_eq!(rules::next_evaluation_due(&p), Some(moved + Days::new(14)));
    // Changes before the last evaluation were already evaluated.
    p.decision = None;
    p.phase_dates.clear();
    p.phase_dates
        .entry(Phase::Execution)
        .or_default()
        .actual_start = Some(last - Days::new(1));
    assert_eq!(rules::next_evaluation_due(&p), Some(regular));
}

#[test]
fn contact_moments_are_counted_per_month_by_what_became_of_them() {
    let plan = Plan::from_replica(&Replica::from_ops(year::PLAN, &year::year_plan(today())));
    let months = plan.contacts_per_month();
    assert!(
        months.len() >= 12,
        "a year of contact moments spans at least 12 months"
    );
    assert!(months
        .windows(2)
        .all(|w| (w[0].year, w[0].month) < (w[1].year, w[1].month)));
    let total: u32 = months
        .iter()
        .map(|m| m.planned + m.happened + m.cancelled + m.no_show)
        .sum();
    assert_eq!(total as usize, plan.contact_moments.len());
    let happened = plan
        .contact_moments
        .iter()
        .filter(|c| c.status == ContactStatus::Happened)
        .count();
    assert_eq!(
        months.iter().map(|m| m.happened).sum::<u32>() as usize,
        happened
    );
    assert!(months.iter().any(|m| m.cancelled > 0) && months.iter().any(|m| m.planned > 0));
}

#[test]
fn a_member_taken_out_of_the_plan_can_no_longer_write_but_keeps_their_name_on_what_they_wrote() {
    let (mut r, p) = demo();
    let mut worker = Author::new(demo::WORKER, NodeId(3));
    let mut foster = Author::new(demo::FOSTER_PARENT, NodeId(2));
    assert!(p.member(demo::FOSTER_PARENT).is_some());

    // A new foster family joins and the old one leaves.
    let newcomer = MemberId(Uuid::from_u128(777));
    let e = Entity::Member(newcomer);
    for (n, edit) in [
        (2, Edit::new(e, Field::Name, "Fam. Yilmaz")),
        (3, Edit::new(e, Field::Role, Role::FosterParent)),
        (
            4,
            Edit::new(Entity::Member(demo::FOSTER_PARENT), Field::Deleted, true),
        ),
    ] {
        let p = Plan::from_replica(&r);
        let op = worker
            .change(&r, &p, op_id(n), NOW + n as u64, edit)
            .unwrap();
        r.apply(&op).unwrap();
    }
    let p = Plan::from_replica(&r);
    assert_eq!(p.member(newcomer).unwrap().name, "Fam. Yilmaz");
    assert!(p.member(demo::FOSTER_PARENT).is_none());
    assert_eq!(p.former_members.len(), 1);
    // What the former foster parents wrote still says who wrote it.
    let former = p.member_or_former(demo::FOSTER_PARENT).unwrap();
    assert_eq!(
        (former.name.as_str(), former.role),
        (p.former_members[0].name.as_str(), Role::FosterParent)
    );
    // And nothing they send any more is accepted.
    let visit = Entity::ContactMoment(ContactMomentId(Uuid::from_u128(9)));
    assert_eq!(
        foster
            .change(
                &r,
                &p,
                op_id(5),
                NOW + 10,
                Edit::new(visit, Field::Note, Some("x"))
            )
            .unwrap_err(),
        Refusal::NotAMember
    );
    // Nobody takes themselves out: the plan would lose the one who manages it.
    assert_eq!(
        worker
            .change(
                &r,
                &p,
                op_id(6),
                NOW + 11,
                Edit::new(Entity::Member(demo::WORKER), Field::Deleted, true)
            )
            .unwrap_err(),
        Refusal::RemovesSelf
    );
}
