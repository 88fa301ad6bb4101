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

// Refusals for a timestamp that is not ahead but unusable all the same: stamped before the plan
// was founded (`before_plan`) or with a clock counter at its limit (`hlc_counter_limit`). These
// are restamped at once, whatever the clock reads.

/// The op as made, with a counter.
fn with_counter(mut op: Op, counter: u32) -> Op {
    op.hlc.counter = counter;
    op
}

#[test]
fn a_change_stamped_before_the_plan_was_founded_gets_a_timestamp_after_the_founding() {
    let worker = NodeId(0xb2);
    let founding = op(1, NOW - 30 * DAY, worker, Field::Place, "thuis");
    // The phone's clock read 1970 when the note was made: older than the plan itself.
    let note = op(2, 5_000, PHONE, Field::Note, "Bezoek in het park");
    let ops = vec![founding.clone(), note.clone()];

    // The clock still reads 1970: even so, the new stamp comes after the founding.
    for now in [5_000, NOW] {
        let restamped = restamp_refused(&ops, &[note.id], &[], &[note.id], PHONE, now);
        assert_eq!(restamped.len(), 1);
        let new = &restamped[0];
        assert!(new.hlc > founding.hlc, "{:?}", new.hlc);
        assert!(new.hlc.check_drift(NOW).is_ok());
        assert_eq!(new.hlc.node, PHONE);
        assert_eq!((new.id, &new.value), (note.id, &note.value));
    }
}

#[test]
fn a_change_with_its_counter_at_the_limit_gets_one_below_it() {
    let note = with_counter(op(2, NOW, PHONE, Field::Note, "Bezoek"), hlc::COUNTER_LIMIT);
    let restamped = restamp_refused(
        std::slice::from_ref(&note),
        &[note.id],
        &[],
        &[note.id],
        PHONE,
        NOW,
    );
    assert_eq!(restamped.len(), 1);
    assert!(restamped[0].hlc.check_counter().is_ok());
    assert!(restamped[0].hlc.check_drift(NOW).is_ok());
}

#[test]
fn the_refused_stamp_itself_does_not_push_the_new_one_on() {
    // A burst of changes two minutes ahead (within what the server takes) with the counter at
    // its limit: the new stamp is from now, not after the one that was refused.
    let note = with_counter(
        op(2, NOW + 120_000, PHONE, Field::Note, "Bezoek"),
        hlc::COUNTER_LIMIT,
    );
    let restamped = restamp_refused(
        std::slice::from_ref(&note),
        &[note.id],
        &[],
        &[note.id],
        PHONE,
        NOW,
    );
    assert_eq!(restamped[0].hlc.millis, NOW);
}

#[test]
fn stale_changes_are_restamped_while_the_clock_still_runs_ahead_but_early_ones_wait() {
    let seen = op(1, NOW - 60_000, NodeId(0xb2), Field::Place, "thuis");
    let stale = op(2, 5_000, PHONE, Field::Note, "Bezoek");
    let early = op(3, NOW + DAY, PHONE, Field::Status, "happened");
    let ops = vec![seen.clone(), stale.clone(), early.clone()];
    let unsent = [stale.id, early.id];

    // The clock still reads a day ahead: the early change keeps its stamp (it would be
    // refused again anyway), the stale one is mended now.
    let restamped = restamp_refused(&ops, &unsent, &[early.id], &[stale.id], PHONE, NOW + DAY);
    assert_eq!(
        restamped.iter().map(|o| o.id).collect::<Vec<_>>(),
        [stale.id]
    );

    // Once the clock is right, both at once, in the order they were made.
    let restamped = restamp_refused(&ops, &unsent, &[early.id], &[stale.id], PHONE, NOW);
    assert_eq!(
        restamped.iter().map(|o| o.id).collect::<Vec<_>>(),
        [stale.id, early.id]
    );
    assert!(restamped[0].hlc > seen.hlc && restamped[0].hlc < restamped[1].hlc);
    assert!(restamped.iter().all(|o| o.hlc.check_drift(NOW).is_ok()));
}

// `op_id_reused`: the server holds another change under the id of one of ours. Ours is kept
// under a new id; unsent changes that overwrote it name the new id.

/// New ids from `from` on, as a closure (the app passes `Uuid::new_v4`).
fn ids_from(from: u128) -> impl FnMut() -> Uuid {
    let mut next = from;
    move || {
        next += 1;
        Uuid::from_u128(next)
    }
}

fn superseding(mut op: Op, earlier: &Op) -> Op {
    op.supersedes = Some(earlier.id);
    op
}

#[test]
fn a_change_whose_id_the_server_holds_is_kept_under_a_new_id() {
    let sent = op(1, NOW - 1000, PHONE, Field::Place, "thuis");
    let reused = superseding(op(2, NOW, PHONE, Field::Place, "park"), &sent);
    // Made after `reused`, over it, and not sent yet: it follows the new id.
    let over = superseding(op(3, NOW + 1, PHONE, Field::Place, "school"), &reused);
    let ops = vec![sent.clone(), reused.clone(), over.clone()];

    let renewed = renew_ids(&ops, &[reused.id, over.id], &[reused.id], ids_from(1000));
    assert_eq!(renewed.len(), 2, "{renewed:?}");
    let new = &renewed[0];
    assert_eq!(new.id, OpId(Uuid::from_u128(1001)));
    assert_eq!(
        Op {
            id: reused.id,
            ..new.clone()
        },
        reused,
        "same change, same timestamp, same supersedes"
    );
    assert_eq!(
        renewed[1],
        Op {
            supersedes: Some(new.id),
            ..over
        }
    );
    // What the phone shows does not change.
    assert_eq!(
        current(&[sent, renewed[0].clone(), renewed[1].clone()]),
        current(&ops)
    );
}

#[test]
fn a_change_already_sent_keeps_pointing_at_the_old_id() {
    let reused = op(2, NOW, PHONE, Field::Place, "park");
    let sent = superseding(op(3, NOW + 1, PHONE, Field::Place, "school"), &reused);
    let renewed = renew_ids(
        &[reused.clone(), sent.clone()],
        &[reused.id],
        &[reused.id],
        ids_from(1000),
    );
    // The server stored `sent` as it was: changing it here would make phone and server differ.
    assert_eq!(
        renewed.iter().map(|o| o.id).collect::<Vec<_>>(),
        [OpId(Uuid::from_u128(1001))]
    );
}

#[test]
fn nothing_reused_nothing_renewed() {
    let a = op(2, NOW, PHONE, Field::Place, "park");
    let mut asked = 0;
    let renewed = renew_ids(std::slice::from_ref(&a), &[a.id], &[], || {
        asked += 1;
        Uuid::from_u128(1)
    });
    assert!(renewed.is_empty());
    assert_eq!(asked, 0, "no id is made for nothing");
}

proptest! {
    /// Changes refused as ahead (once the clock is right) and as stale, mixed with what the phone
    /// saw and other unsent changes still ahead: every refused one gets a timestamp that is
    /// sendable now and after everything seen, in the order they were made; nothing else is
    /// touched, ids and values stay.
    #[test]
    fn restamped_refusals_come_after_everything_seen_in_their_order(
        seen in prop::collection::vec((0u64..2 * MAX_DRIFT_MILLIS, 0u64..4), 0..8),
        // (how the change went wrong: 0 ahead, 1 before the plan, 2 counter at the limit,
        //  3 ahead but not refused yet; how far off; counter)
        mine in prop::collection::vec(
            (0u8..4, 1u64..3 * DAY, 0u32..=u32::MAX),
            1..10,
        ),
    ) {
        let mut ops: Vec<Op> = seen.iter().enumerate()
            .map(|(i, (m, node))| op(i as u128, NOW - MAX_DRIFT_MILLIS + m, NodeId(*node), Field::Place, "x"))
            .collect();
        let (mut early, mut stale, mut unsent) = (vec![], vec![], vec![]);
        for (i, (kind, off, counter)) in mine.iter().enumerate() {
            let n = 100 + i as u128;
            let value = format!("n{i}");
            let o = match kind {
                0 | 3 => op(n, NOW + MAX_DRIFT_MILLIS + off, PHONE, Field::Note, &value),
                1 => op(n, NOW.saturating_sub(30 * DAY + off), PHONE, Field::Note, &value),
                _ => with_counter(
                    op(n, NOW - off % MAX_DRIFT_MILLIS, PHONE, Field::Note, &value),
                    hlc::COUNTER_LIMIT + counter % 1000,
                ),
            };
            match kind {
                0 => early.push(o.id),
                1 | 2 => stale.push(o.id),
                _ => {}
            }
            unsent.push(o.id);
            ops.push(o);
        }
        let refused: Vec<OpId> = early.iter().chain(&stale).copied().collect();
        let restamped = restamp_refused(&ops, &unsent, &early, &stale, PHONE, NOW);

        let mut before: Vec<&Op> = ops.iter().filter(|o| refused.contains(&o.id)).collect();
        before.sort_by_key(|o| o.hlc);
        prop_assert_eq!(restamped.len(), before.len());
        let max_seen = ops.iter().filter(|o| !unsent.contains(&o.id)).map(|o| o.hlc).max();
        for (i, new) in restamped.iter().enumerate() {
            prop_assert!(new.hlc.check_drift(NOW).is_ok(), "{:?}", new.hlc);
            prop_assert!(new.hlc.check_counter().is_ok(), "{:?}", new.hlc);
            prop_assert!(max_seen.is_none_or(|s| new.hlc > s));
            prop_assert_eq!(new.hlc.node, PHONE);
            prop_assert_eq!(
                &Op { hlc: before[i].hlc, ..new.clone() },
                before[i],
                "only the timestamp changes"
            );
            if i > 0 { prop_assert!(restamped[i - 1].hlc < new.hlc); }
        }
    }

    /// Any chain of changes to one field, some sent, some not, some refused as reused: each
    /// reused one comes back once with its content and a fresh id of its own, unsent changes
    /// over a reused one follow it to its new id, and nothing else is returned.
    #[test]
    fn renewed_ops_keep_their_content_and_unsent_ones_follow_them(
        chain in prop::collection::vec((any::<bool>(), any::<bool>(), 0usize..4), 1..12),
    ) {
        // (reused, unsent, how many back the change it overwrote is: 0 none)
        let mut ops: Vec<Op> = Vec::new();
        for (i, (_, _, back)) in chain.iter().enumerate() {
            let mut o = op(i as u128 + 1, NOW + i as u64, PHONE, Field::Note, &format!("n{i}"));
            if *back > 0 && i >= *back {
                o.supersedes = Some(ops[i - back].id);
            }
            ops.push(o);
        }
        let reused: Vec<OpId> = ops.iter().zip(&chain).filter(|(_, c)| c.0).map(|(o, _)| o.id).collect();
        // A refused change was not stored: it is unsent too.
        let unsent: Vec<OpId> = ops.iter().zip(&chain).filter(|(_, c)| c.0 || c.1).map(|(o, _)| o.id).collect();
        let renewed = renew_ids(&ops, &unsent, &reused, ids_from(1000));

        let old_ids: Vec<OpId> = ops.iter().map(|o| o.id).collect();
        let mut new_ids: Vec<(OpId, OpId)> = Vec::new();
        let mut returned = renewed.iter();
        // Returned in the order of `ops`.
        for o in &ops {
            let follows = o.supersedes.is_some_and(|s| reused.contains(&s));
            let expected = reused.contains(&o.id) || (follows && unsent.contains(&o.id));
            if !expected {
                continue;
            }
            let r = returned.next();
            prop_assert!(r.is_some(), "{:?} is missing", o.id);
            let r = r.unwrap();
            if reused.contains(&o.id) {
                prop_assert!(!old_ids.contains(&r.id), "a fresh id");
                prop_assert!(new_ids.iter().all(|(_, n)| *n != r.id), "distinct ids");
                new_ids.push((o.id, r.id));
            } else {
                prop_assert_eq!(r.id, o.id);
            }
            let pointed = o.supersedes.map(|s| new_ids.iter().find(|(old, _)| *old == s).map_or(s, |(_, n)| *n));
            prop_assert_eq!(r.supersedes, pointed);
            prop_assert_eq!(
                &Op { id: o.id, supersedes: o.supersedes, ..r.clone() },
                o,
                "same content, same timestamp"
            );
        }
        prop_assert!(returned.next().is_none(), "nothing else: {:?}", renewed);
        prop_assert_eq!(new_ids.len(), reused.len());
    }
}
