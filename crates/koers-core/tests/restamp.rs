//! A phone whose clock ran ahead: once the clock is right, its refused changes get new
//! timestamps and can be sent at once.

use koers_core::hlc::MAX_DRIFT_MILLIS;
use koers_core::*;
use proptest::prelude::*;
use serde_json::json;
use uuid::Uuid;

const PLAN: PlanId = PlanId(Uuid::from_u128(7));
const PHONE: NodeId = NodeId(0xa1);
const NOW: u64 = 1_790_000_000_000;
const DAY: u64 = 24 * 3600 * 1000;

fn op(n: u128, millis: u64, node: NodeId, field: Field, value: &str) -> Op {
    Op {
        id: OpId(Uuid::from_u128(n)),
        plan: PLAN,
        hlc: Hlc {
            millis,
            counter: 0,
            node,
        },
        author: MemberId(Uuid::from_u128(node.0 as u128)),
        entity: Entity::ContactMoment(ContactMomentId(Uuid::from_u128(3))),
        field,
        value: json!(value),
        supersedes: None,
    }
}

fn current(ops: &[Op]) -> Vec<(Field, serde_json::Value)> {
    let mut replica = Replica::new(PLAN);
    for op in ops {
        replica.apply(op).unwrap();
    }
    [Field::Note, Field::Place, Field::Status]
        .into_iter()
        .filter_map(|f| replica.get(ops[0].entity, f).map(|v| (f, v.clone())))
        .collect()
}

#[test]
fn a_visit_logged_a_day_ahead_gets_timestamps_from_now_after_what_the_phone_saw() {
    let worker = NodeId(0xb2);
    let seen = op(1, NOW - 60_000, worker, Field::Place, "thuis");
    // Logged while the phone's clock ran a day ahead; the server refused both.
    let note = op(2, NOW + DAY, PHONE, Field::Note, "Bezoek in het park");
    let place = op(3, NOW + DAY + 1, PHONE, Field::Place, "park");
    let ops = vec![seen.clone(), note.clone(), place.clone()];
    let refused = [note.id, place.id];

    let restamped = restamp(&ops, &refused, &refused, PHONE, NOW);
    assert_eq!(restamped.iter().map(|o| o.id).collect::<Vec<_>>(), refused);
    for (new, old) in restamped.iter().zip([&note, &place]) {
        assert!(new.hlc.check_drift(NOW).is_ok(), "{:?}", new.hlc);
        assert!(new.hlc > seen.hlc);
        assert_eq!(
            (new.author, new.entity, new.field, &new.value),
            (old.author, old.entity, old.field, &old.value)
        );
    }
    assert!(
        restamped[0].hlc < restamped[1].hlc,
        "made in this order, kept in it"
    );
    // What the phone shows does not change: the phone's place still wins over the worker's.
    assert_eq!(
        current(&[seen, restamped[0].clone(), restamped[1].clone()]),
        current(&ops)
    );
}

#[test]
fn while_the_clock_still_runs_ahead_nothing_is_restamped() {
    let note = op(2, NOW + DAY, PHONE, Field::Note, "Bezoek");
    assert!(restamp(
        std::slice::from_ref(&note),
        &[note.id],
        &[note.id],
        PHONE,
        NOW + DAY
    )
    .is_empty());
    // Only what the server refused: an op sent and stored is never given another timestamp.
    assert!(restamp(std::slice::from_ref(&note), &[note.id], &[], PHONE, NOW).is_empty());
}

#[test]
fn another_unsent_change_made_ahead_does_not_drag_the_new_timestamps_along() {
    let refused = op(2, NOW + DAY, PHONE, Field::Note, "Bezoek");
    let later = op(3, NOW + DAY + 5, PHONE, Field::Status, "happened");
    let restamped = restamp(
        &[refused.clone(), later.clone()],
        &[refused.id, later.id],
        &[refused.id],
        PHONE,
        NOW,
    );
    assert_eq!(restamped.len(), 1);
    assert!(restamped[0].hlc.check_drift(NOW).is_ok());
}

proptest! {
    /// Whatever the phone saw and however far ahead it ran: the restamped ops are sendable now,
    /// come after everything seen, keep their order and their content.
    #[test]
    fn restamped_ops_are_sendable_ordered_and_unchanged(
        seen in prop::collection::vec((0u64..2 * MAX_DRIFT_MILLIS, 0u64..4), 0..8),
        ahead in prop::collection::vec(MAX_DRIFT_MILLIS + 1..3 * DAY, 1..8),
    ) {
        // Seen ops may be a little ahead of this phone's clock (it may run slightly behind).
        let mut ops: Vec<Op> = seen.iter().enumerate()
            .map(|(i, (m, node))| op(i as u128, NOW - MAX_DRIFT_MILLIS + m, NodeId(*node), Field::Place, "x"))
            .collect();
        let refused: Vec<OpId> = ahead.iter().enumerate().map(|(i, m)| {
            let o = op(100 + i as u128, NOW + m, PHONE, Field::Note, &format!("n{i}"));
            ops.push(o.clone());
            o.id
        }).collect();
        let restamped = restamp(&ops, &refused, &refused, PHONE, NOW);
        prop_assert_eq!(restamped.len(), refused.len());
        let max_seen = ops.iter().filter(|o| !refused.contains(&o.id)).map(|o| o.hlc).max();
        let mut before: Vec<&Op> = ops.iter().filter(|o| refused.contains(&o.id)).collect();
        before.sort_by_key(|o| o.hlc);
        for (i, new) in restamped.iter().enumerate() {
            prop_assert!(new.hlc.check_drift(NOW + MAX_DRIFT_MILLIS).is_ok());
            prop_assert!(max_seen.is_none_or(|s| new.hlc > s));
            prop_assert_eq!(new.id, before[i].id);
            prop_assert_eq!(&new.value, &before[i].value);
            if i > 0 { prop_assert!(restamped[i - 1].hlc < new.hlc); }
        }
    }
}
