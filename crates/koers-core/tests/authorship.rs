//! Words written in someone's own name — a goal comment, a parent's or the child's view — are
//! changed or removed only by whoever wrote them; the foster-care worker may hide them, which
//! leaves them out of the plan but not out of the log or history.

use chrono::NaiveDate;
use koers_core::history::history;
use koers_core::*;
use proptest::prelude::*;
use serde_json::{json, Value};
use uuid::Uuid;

const NOW: u64 = 1_795_000_000_000;

/// A second parent, a care worker and a sibling join the example plan, so that every role has a
/// member and parents and children each have someone "else" of their own role.
const OTHER_PARENT: MemberId = MemberId(Uuid::from_u128(0xa11_0001));
const CARE_WORKER: MemberId = MemberId(Uuid::from_u128(0xa11_0002));
const SIBLING: MemberId = MemberId(Uuid::from_u128(0xa11_0003));

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

/// Every member of the plan and their role.
fn everyone() -> Vec<(MemberId, Role)> {
    vec![
        (demo::PARENT, Role::Parent),
        (OTHER_PARENT, Role::Parent),
        (demo::FOSTER_PARENT, Role::FosterParent),
        (demo::GUARDIAN, Role::Guardian),
        (demo::WORKER, Role::FosterCareWorker),
        (CARE_WORKER, Role::CareWorker),
        (demo::YOUTH, Role::Youth),
        (SIBLING, Role::Youth),
    ]
}

/// The example plan with its members, as a replica, and a counter for fresh op ids and times.
struct World {
    r: Replica,
    /// Every op made since the example plan, in the order made.
    log: Vec<Op>,
    n: u128,
}

impl World {
    fn new() -> World {
        let mut w = World {
            r: Replica::from_ops(demo::PLAN, &demo::plan_ops(today())),
            log: vec![],
            n: 0,
        };
        for (id, role, name) in [
            (OTHER_PARENT, Role::Parent, "Sander"),
            (CARE_WORKER, Role::CareWorker, "Iris"),
            (SIBLING, Role::Youth, "Mees"),
        ] {
            w.ok(demo::WORKER, Entity::Member(id), Field::Role, json!(role));
            w.ok(demo::WORKER, Entity::Member(id), Field::Name, json!(name));
        }
        w
    }

    fn plan(&self) -> Plan {
        Plan::from_replica(&self.r)
    }

    /// `member` tries to set `field` of `entity`, through the core as the app and server do.
    fn try_set(
        &mut self,
        member: MemberId,
        entity: Entity,
        field: Field,
        value: Value,
    ) -> Result<Op, Refusal> {
        self.n += 1;
        let plan = self.plan();
        Author::new(member, NodeId(self.n as u64)).change(
            &self.r,
            &plan,
            OpId(Uuid::from_u128(0xa0_0000 + self.n)),
            NOW + self.n as u64 * 1_000,
            Edit {
                entity,
                field,
                value,
            },
        )
    }

    /// Sets it and applies it; panics if refused.
    fn ok(&mut self, member: MemberId, entity: Entity, field: Field, value: Value) -> Op {
        let op = self
            .try_set(member, entity, field, value)
            .unwrap_or_else(|e| panic!("{member} {entity} {field:?}: {e}"));
        self.apply(&op);
        op
    }

    fn apply(&mut self, op: &Op) {
        self.r.apply(op).unwrap();
        self.log.push(op.clone());
    }

    /// A comment by `member` on the first goal.
    fn comment(&mut self, member: MemberId, text: &str) -> Entity {
        let e = Entity::GoalComment(CommentId(Uuid::from_u128(0xc0_0000 + self.n)));
        let goal = self.plan().goals[0].id;
        self.ok(member, e, Field::Goal, json!(goal));
        self.ok(member, e, Field::Text, json!(text));
        e
    }

    /// A contact moment that happened, logged by the foster parent.
    fn visit(&mut self) -> Entity {
        let e = Entity::ContactMoment(ContactMomentId(Uuid::from_u128(0xd0_0000 + self.n)));
        let at = today().and_hms_opt(14, 0, 0).unwrap();
        self.ok(demo::FOSTER_PARENT, e, Field::At, json!(at));
        self.ok(demo::FOSTER_PARENT, e, Field::Status, json!("happened"));
        e
    }

    /// The first evaluation of the example plan.
    fn evaluation(&self) -> Entity {
        Entity::Evaluation(self.plan().evaluations[0].id)
    }
}

fn not_the_writer(writer: MemberId, field: Field) -> Result<(), Refusal> {
    Err(Refusal::NotTheWriter { writer, field })
}

#[test]
fn only_the_writer_changes_or_removes_a_goal_comment() {
    let mut w = World::new();
    let e = w.comment(demo::PARENT, "Deze week twee keer gelukt.");
    for (member, role) in everyone() {
        if member == demo::PARENT {
            continue;
        }
        for (field, value) in [
            (Field::Text, json!("Anders gezegd")),
            (Field::Deleted, json!(true)),
            (Field::Goal, json!(w.plan().goals[1].id)),
        ] {
            let refused = w.try_set(member, e, field, value).map(drop);
            if allowed(role, Action::CommentOnGoal) {
                assert_eq!(refused, not_the_writer(demo::PARENT, field), "{role:?}");
            } else {
                assert!(
                    matches!(refused, Err(Refusal::NotAllowed { .. })),
                    "{role:?}"
                );
            }
        }
    }
    // Its writer changes it, then removes it.
    w.ok(
        demo::PARENT,
        e,
        Field::Text,
        json!("Deze week drie keer gelukt."),
    );
    let plan = w.plan();
    let c = &plan
        .comments
        .iter()
        .find(|c| Entity::GoalComment(c.id) == e)
        .unwrap();
    assert_eq!(
        (c.text.as_str(), c.author),
        ("Deze week drie keer gelukt.", demo::PARENT)
    );
    w.ok(demo::PARENT, e, Field::Deleted, json!(true));
    assert!(!w
        .plan()
        .comments
        .iter()
        .any(|c| Entity::GoalComment(c.id) == e));
    // Removed, it is still its writer's: nobody else brings it back or rewrites it.
    assert_eq!(
        w.try_set(demo::WORKER, e, Field::Deleted, json!(false))
            .map(drop),
        not_the_writer(demo::PARENT, Field::Deleted)
    );
    w.ok(demo::PARENT, e, Field::Deleted, json!(false));
    assert!(w
        .plan()
        .comments
        .iter()
        .any(|c| Entity::GoalComment(c.id) == e));
}

#[test]
fn a_parents_view_is_changed_or_cleared_only_by_the_parent_who_wrote_it() {
    let mut w = World::new();
    let visit = w.visit();
    // The first view is anyone's the table allows: here the other parent writes it.
    w.ok(
        OTHER_PARENT,
        visit,
        Field::ParentView,
        json!("Fijne middag."),
    );
    for (member, role) in everyone() {
        if member == OTHER_PARENT {
            continue;
        }
        for value in [json!("Ik vond het moeilijk."), Value::Null] {
            let refused = w.try_set(member, visit, Field::ParentView, value).map(drop);
            if role == Role::Parent {
                assert_eq!(refused, not_the_writer(OTHER_PARENT, Field::ParentView));
            } else {
                assert!(
                    matches!(refused, Err(Refusal::NotAllowed { .. })),
                    "{role:?}"
                );
            }
        }
    }
    let id = |e: Entity| match e {
        Entity::ContactMoment(id) => id,
        _ => unreachable!(),
    };
    assert_eq!(
        w.plan()
            .contact_moment(id(visit))
            .unwrap()
            .parent_view_writer,
        Some(OTHER_PARENT)
    );
    // Its writer changes it and clears it; once empty, the other parent may write their own.
    w.ok(
        OTHER_PARENT,
        visit,
        Field::ParentView,
        json!("Fijne middag, wel kort."),
    );
    w.ok(OTHER_PARENT, visit, Field::ParentView, Value::Null);
    let plan = w.plan();
    let c = plan.contact_moment(id(visit)).unwrap();
    assert_eq!(
        (c.parent_view.as_deref(), c.parent_view_writer),
        (None, None)
    );
    w.ok(
        demo::PARENT,
        visit,
        Field::ParentView,
        json!("Noa was blij."),
    );
    assert_eq!(
        w.try_set(OTHER_PARENT, visit, Field::ParentView, json!("x"))
            .map(drop),
        not_the_writer(demo::PARENT, Field::ParentView)
    );
}

#[test]
fn a_childs_view_is_changed_only_by_the_child_who_wrote_it() {
    let mut w = World::new();
    let visit = w.visit();
    let evaluation = w.evaluation();
    for e in [visit, evaluation] {
        w.ok(demo::YOUTH, e, Field::YouthView, json!("Leuk!"));
        for (member, role) in everyone() {
            if member == demo::YOUTH {
                continue;
            }
            let refused = w
                .try_set(member, e, Field::YouthView, Value::Null)
                .map(drop);
            if role == Role::Youth {
                assert_eq!(refused, not_the_writer(demo::YOUTH, Field::YouthView));
            } else {
                assert!(
                    matches!(refused, Err(Refusal::NotAllowed { .. })),
                    "{role:?}"
                );
            }
        }
        w.ok(demo::YOUTH, e, Field::YouthView, json!("Leuk, maar kort."));
    }
    assert_eq!(
        w.plan().evaluations[0].youth_view.as_deref(),
        Some("Leuk, maar kort.")
    );
}

#[test]
fn the_refusal_says_only_its_writer_may_change_it() {
    let refusal = Refusal::NotTheWriter {
        writer: demo::PARENT,
        field: Field::Text,
    };
    assert_eq!(
        refusal.to_string(),
        "only its writer may change this comment"
    );
    let refusal = Refusal::NotTheWriter {
        writer: demo::PARENT,
        field: Field::ParentView,
    };
    assert_eq!(
        refusal.to_string(),
        "only its writer may change this parent's view"
    );
}

#[test]
fn only_the_worker_hides_a_comment_or_a_view_and_shows_it_again() {
    let mut w = World::new();
    let comment = w.comment(demo::PARENT, "Ik ben het hier niet mee eens.");
    let visit = w.visit();
    w.ok(demo::PARENT, visit, Field::ParentView, json!("Te kort."));
    w.ok(demo::YOUTH, visit, Field::YouthView, json!("Saai."));
    let evaluation = w.evaluation();
    w.ok(
        demo::YOUTH,
        evaluation,
        Field::YouthView,
        json!("Gaat goed."),
    );
    let hides = [
        (comment, Field::Hidden),
        (visit, Field::ParentViewHidden),
        (visit, Field::YouthViewHidden),
        (evaluation, Field::YouthViewHidden),
    ];
    for (member, role) in everyone() {
        for (e, field) in hides {
            let tried = w.try_set(member, e, field, json!(true));
            if role == Role::FosterCareWorker {
                assert_eq!(
                    authorize(&w.plan(), &tried.unwrap()),
                    Ok(Action::HideContribution)
                );
            } else {
                assert_eq!(
                    tried.map(drop),
                    Err(Refusal::NotAllowed {
                        role,
                        action: Action::HideContribution
                    }),
                    "{role:?} {field:?}"
                );
            }
        }
    }
    // The writer cannot undo a hide either: showing again is the worker's too.
    assert!(matches!(
        w.try_set(demo::PARENT, comment, Field::Hidden, json!(false)),
        Err(Refusal::NotAllowed { .. })
    ));
    // Hidden values are booleans, on the items that have them.
    assert!(matches!(
        w.try_set(demo::WORKER, comment, Field::Hidden, json!("yes")),
        Err(Refusal::Invalid(InvalidOp::BadValue { .. }))
    ));
    assert!(matches!(
        w.try_set(
            demo::WORKER,
            evaluation,
            Field::ParentViewHidden,
            json!(true)
        ),
        Err(Refusal::Invalid(InvalidOp::UnknownField { .. }))
    ));
}

#[test]
fn hidden_words_leave_the_plan_but_stay_in_history_with_who_hid_them_and_when() {
    let mut w = World::new();
    let words = "Ik ben het hier niet mee eens.";
    let comment = w.comment(demo::PARENT, words);
    let visit = w.visit();
    w.ok(demo::PARENT, visit, Field::ParentView, json!("Te kort."));
    w.ok(demo::YOUTH, visit, Field::YouthView, json!("Saai."));
    let evaluation = w.evaluation();
    w.ok(
        demo::YOUTH,
        evaluation,
        Field::YouthView,
        json!("Gaat goed."),
    );

    let hid_comment = w.ok(demo::WORKER, comment, Field::Hidden, json!(true));
    let hid_parent = w.ok(demo::WORKER, visit, Field::ParentViewHidden, json!(true));
    w.ok(demo::WORKER, visit, Field::YouthViewHidden, json!(true));
    w.ok(
        demo::WORKER,
        evaluation,
        Field::YouthViewHidden,
        json!(true),
    );

    let plan = w.plan();
    let Entity::GoalComment(comment_id) = comment else {
        unreachable!()
    };
    assert!(!plan.comments.iter().any(|c| c.id == comment_id));
    assert!(!plan.comments.iter().any(|c| c.text == words));
    let hidden = &plan.hidden_comments;
    assert_eq!(hidden.len(), 1);
    assert_eq!(
        (hidden[0].id, hidden[0].author, hidden[0].hiding),
        (
            comment_id,
            demo::PARENT,
            plan::Hiding {
                by: demo::WORKER,
                at: hid_comment.hlc
            }
        )
    );
    let c = plan
        .contact_moments
        .iter()
        .find(|c| Entity::ContactMoment(c.id) == visit)
        .unwrap();
    assert_eq!(
        (c.parent_view.as_deref(), c.youth_view.as_deref()),
        (None, None)
    );
    assert_eq!(
        c.parent_view_hidden,
        Some(plan::Hiding {
            by: demo::WORKER,
            at: hid_parent.hlc
        })
    );
    assert_eq!(
        c.parent_view_writer,
        Some(demo::PARENT),
        "still the parent's words"
    );
    assert!(c.youth_view_hidden.is_some());
    assert_eq!(plan.evaluations[0].youth_view, None);
    assert!(plan.evaluations[0].youth_view_hidden.is_some());

    assert!(plan.is_hidden(comment, Field::Text));
    assert!(plan.is_hidden(visit, Field::ParentView));
    assert!(plan.is_hidden(visit, Field::YouthView));
    assert!(plan.is_hidden(evaluation, Field::YouthView));
    assert!(!plan.is_hidden(visit, Field::Note));

    // History keeps the words and shows the hide: by the worker, at its time, newest first.
    let h = history(&w.r, comment);
    assert_eq!(
        (h[0].field, &h[0].value, h[0].author, h[0].hlc),
        (Field::Hidden, &json!(true), demo::WORKER, hid_comment.hlc)
    );
    assert!(h
        .iter()
        .any(|c| c.field == Field::Text && c.value == json!(words) && c.author == demo::PARENT));
    let h = history(&w.r, visit);
    assert!(h
        .iter()
        .any(|c| c.field == Field::ParentViewHidden && c.author == demo::WORKER));
    assert!(h
        .iter()
        .any(|c| c.field == Field::ParentView && c.value == json!("Te kort.")));

    // A hidden comment is still its writer's to change; the worker shows it again.
    w.ok(
        demo::PARENT,
        comment,
        Field::Text,
        json!("Ik wil dit bespreken."),
    );
    assert!(w.plan().comments.is_empty() || !w.plan().comments.iter().any(|c| c.id == comment_id));
    w.ok(demo::WORKER, comment, Field::Hidden, json!(false));
    w.ok(demo::WORKER, visit, Field::ParentViewHidden, json!(false));
    let plan = w.plan();
    assert_eq!(
        plan.comments
            .iter()
            .find(|c| c.id == comment_id)
            .map(|c| c.text.as_str()),
        Some("Ik wil dit bespreken.")
    );
    assert!(plan.hidden_comments.is_empty());
    let c = plan
        .contact_moments
        .iter()
        .find(|c| Entity::ContactMoment(c.id) == visit)
        .unwrap();
    assert_eq!(
        (c.parent_view.as_deref(), c.parent_view_hidden),
        (Some("Te kort."), None)
    );
    assert!(!plan.is_hidden(visit, Field::ParentView) && !plan.is_hidden(comment, Field::Text));
}

#[test]
fn writes_to_comments_and_views_make_a_kept_plan_stale() {
    let mut w = World::new();
    let comment = w.comment(demo::PARENT, "Hoi");
    let visit = w.visit();
    let op = |entity, field| Op {
        id: OpId(Uuid::from_u128(1)),
        plan: demo::PLAN,
        hlc: Hlc::ZERO,
        author: demo::PARENT,
        entity,
        field,
        value: Value::Null,
        supersedes: None,
    };
    // Who wrote them decides later ops, so a server keeping the plan beside its replica must
    // derive it again after these.
    assert!(affects_authorization(&op(comment, Field::Text)));
    assert!(affects_authorization(&op(comment, Field::Goal)));
    assert!(affects_authorization(&op(visit, Field::ParentView)));
    assert!(affects_authorization(&op(visit, Field::YouthView)));
    assert!(!affects_authorization(&op(visit, Field::Note)));
    assert!(!affects_authorization(&op(visit, Field::ParentViewHidden)));
}

/// One attempted write in a random session: who, to what, which value.
#[derive(Clone, Debug)]
struct Attempt {
    member: usize,
    item: usize,
    field: usize,
    value: u8,
}

fn attempts() -> impl Strategy<Value = Vec<Attempt>> {
    prop::collection::vec(
        (0usize..8, 0usize..4, 0usize..4, 0u8..4).prop_map(|(member, item, field, value)| {
            Attempt {
                member,
                item,
                field,
                value,
            }
        }),
        1..40,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Everyone tries to write, change, clear, remove and hide comments and views, each write
    /// checked against the plan as it stands (as the server does). Whatever was accepted: every
    /// change to someone's own words is by their writer, every hide by the worker, and any order
    /// of delivery gives the same plan.
    #[test]
    fn only_writers_change_own_words_and_replicas_still_converge(
        attempts in attempts(),
        order in prop::collection::vec(any::<prop::sample::Index>(), 0..60),
    ) {
        let mut w = World::new();
        let visit = w.visit();
        let goal = w.plan().goals[0].id;
        let items = [
            Entity::GoalComment(CommentId(Uuid::from_u128(0xe1))),
            Entity::GoalComment(CommentId(Uuid::from_u128(0xe2))),
            visit,
            w.evaluation(),
        ];
        let members = everyone();
        let mut accepted: Vec<Op> = vec![];
        for a in &attempts {
            let (member, _) = members[a.member];
            let e = items[a.item];
            let (field, value) = match (e, a.field) {
                (Entity::GoalComment(_), 0) => (Field::Goal, json!(goal)),
                (Entity::GoalComment(_), 1) => (Field::Text, json!(format!("t{}", a.value))),
                (Entity::GoalComment(_), 2) => (Field::Deleted, json!(a.value % 2 == 0)),
                (Entity::GoalComment(_), _) => (Field::Hidden, json!(a.value % 2 == 0)),
                (Entity::ContactMoment(_), 0) => (Field::ParentView, if a.value == 0 { Value::Null } else { json!(format!("p{}", a.value)) }),
                (Entity::ContactMoment(_), 1) => (Field::YouthView, if a.value == 0 { Value::Null } else { json!(format!("y{}", a.value)) }),
                (Entity::ContactMoment(_), 2) => (Field::ParentViewHidden, json!(a.value % 2 == 0)),
                (_, 3) => (Field::YouthViewHidden, json!(a.value % 2 == 0)),
                (_, _) => (Field::YouthView, if a.value == 0 { Value::Null } else { json!(format!("e{}", a.value)) }),
            };
            let before = w.plan();
            if let Ok(op) = w.try_set(member, e, field, value) {
                // The writer before this op (if any) is the one who made it.
                if let Some(writer) = before.writer(e, field) {
                    prop_assert_eq!(writer, member);
                }
                if matches!(field, Field::Hidden | Field::ParentViewHidden | Field::YouthViewHidden) {
                    prop_assert_eq!(member, demo::WORKER);
                }
                w.apply(&op);
                accepted.push(op);
            }
        }
        // Every accepted write to a comment (hides aside) is by whoever created it.
        let plan = w.plan();
        for op in &accepted {
            if let (Entity::GoalComment(_), f) = (op.entity, op.field) {
                if f != Field::Hidden {
                    prop_assert_eq!(Some(op.author), plan.writer(op.entity, f));
                }
            }
        }
        // Delivered in another order, with duplicates, the same plan (writers and hides too).
        let everything: Vec<Op> = demo::plan_ops(today()).into_iter().chain(w.log.iter().cloned()).collect();
        let mut delivery: Vec<&Op> = order.iter().map(|i| i.get(&everything)).collect();
        delivery.extend(everything.iter().rev());
        let other = Replica::from_ops(demo::PLAN, delivery);
        prop_assert_eq!(&other, &w.r);
        prop_assert_eq!(Plan::from_replica(&other), plan);
    }
}
