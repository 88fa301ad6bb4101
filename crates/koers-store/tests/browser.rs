//! The operation log in a real browser (headless Chromium through wasm-bindgen-test-runner).

use chrono::NaiveDate;
use koers_core::{demo, Entity, Field, GoalStatus, Plan, Replica};
use koers_store::OpLog;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

async fn fresh(name: &str) -> OpLog {
    OpLog::delete(name).await.unwrap();
    OpLog::open(name).await.unwrap()
}

#[wasm_bindgen_test]
async fn stored_operations_survive_closing_and_reopening_the_database() {
    let log = fresh("t-reopen").await;
    let ops = demo::plan_ops(today());
    log.append_remote(&ops).await.unwrap();
    let goal = Plan::from_replica(&replay(&ops)).goals[0].id;
    let mut tick = ops[0].clone();
    tick.id = koers_core::OpId(uuid::Uuid::from_u128(42));
    tick.hlc.millis += 1_000;
    (tick.entity, tick.field, tick.value) =
        (Entity::Goal(goal), Field::Status, serde_json::json!("done"));
    log.append_local(std::slice::from_ref(&tick)).await.unwrap();
    drop(log);

    let log = OpLog::open("t-reopen").await.unwrap();
    let loaded = log.load(demo::PLAN).await.unwrap();
    assert_eq!(loaded.ops.len(), ops.len() + 1);
    assert_eq!(loaded.pending, vec![tick.id]);
    assert_eq!(loaded.unreadable, 0);
    let plan = Plan::from_replica(&replay(&loaded.ops));
    assert_eq!(plan.goal(goal).unwrap().status, GoalStatus::Done);

    log.mark_acknowledged(&[tick.id]).await.unwrap();
    assert!(log.load(demo::PLAN).await.unwrap().pending.is_empty());
}

#[wasm_bindgen_test]
async fn storing_the_same_operation_twice_keeps_one_copy() {
    let log = fresh("t-idempotent").await;
    let ops = demo::plan_ops(today());
    log.append_local(&ops[..10]).await.unwrap();
    log.append_local(&ops[..10]).await.unwrap();
    assert_eq!(log.load(demo::PLAN).await.unwrap().ops.len(), 10);
}

#[wasm_bindgen_test]
async fn plans_are_kept_apart_and_one_can_be_removed() {
    let log = fresh("t-plans").await;
    let ops = demo::plan_ops(today());
    let mut other = ops[..3].to_vec();
    let other_plan = koers_core::PlanId(uuid::Uuid::from_u128(5));
    for (n, op) in other.iter_mut().enumerate() {
        op.plan = other_plan;
        op.id = koers_core::OpId(uuid::Uuid::from_u128(500 + n as u128));
    }
    log.append_remote(&ops).await.unwrap();
    log.append_remote(&other).await.unwrap();
    assert_eq!(log.load(other_plan).await.unwrap().ops.len(), 3);
    log.remove_ops(&[other[0].id]).await.unwrap();
    assert_eq!(log.load(other_plan).await.unwrap().ops.len(), 2);
    log.remove_plan(other_plan).await.unwrap();
    assert!(log.load(other_plan).await.unwrap().ops.is_empty());
    assert_eq!(log.load(demo::PLAN).await.unwrap().ops.len(), ops.len());
}

#[wasm_bindgen_test]
async fn clearing_removes_every_plan_and_device_fact() {
    let log = fresh("t-clear").await;
    let ops = demo::plan_ops(today());
    log.append_local(&ops).await.unwrap();
    log.set_meta("session", &"a device token").await.unwrap();
    log.clear().await.unwrap();
    drop(log);

    let log = OpLog::open("t-clear").await.unwrap();
    assert_eq!(log.record_count().await.unwrap(), 0);
    assert!(log.load(demo::PLAN).await.unwrap().ops.is_empty());
    assert_eq!(log.meta::<String>("session").await.unwrap(), None);
}

#[wasm_bindgen_test]
async fn a_damaged_record_is_reported_and_kept_not_fatal() {
    let log = fresh("t-damaged").await;
    let ops = demo::plan_ops(today());
    log.append_remote(&ops[..5]).await.unwrap();
    log.put_raw("garbage", "{not json").await.unwrap();
    let loaded = log.load(demo::PLAN).await.unwrap();
    assert_eq!((loaded.ops.len(), loaded.unreadable), (5, 1));
}

#[wasm_bindgen_test]
async fn device_facts_round_trip() {
    let log = fresh("t-meta").await;
    assert_eq!(log.meta::<u64>("node").await.unwrap(), None);
    log.set_meta("node", &77u64).await.unwrap();
    assert_eq!(log.meta::<u64>("node").await.unwrap(), Some(77));
    log.set_meta("session", &"abc").await.unwrap();
    // Several at once, in the order asked, absent ones as None.
    assert_eq!(
        log.meta_texts(["session", "missing", "node"])
            .await
            .unwrap(),
        [Some("\"abc\"".to_string()), None, Some("77".to_string())]
    );
}

fn replay(ops: &[koers_core::Op]) -> Replica {
    Replica::from_ops(demo::PLAN, ops)
}

#[wasm_bindgen_test]
async fn acknowledged_operations_are_packed_and_nothing_is_lost() {
    let log = fresh("t-pack").await;
    let ops = demo::plan_ops(today());
    let (acknowledged, pending) = ops.split_at(ops.len() - 2);
    log.append_remote(acknowledged).await.unwrap();
    log.append_local(pending).await.unwrap();
    log.put_raw("garbage", "{not json").await.unwrap();
    let before = log.load(demo::PLAN).await.unwrap();
    assert_eq!(before.unpacked, acknowledged.len());

    // Too few to bother: nothing changes.
    assert_eq!(log.compact(demo::PLAN, ops.len()).await.unwrap(), 0);
    let packed = log.compact(demo::PLAN, 10).await.unwrap();
    assert_eq!(packed, acknowledged.len());
    // One pack, the two pending operations, and the damaged record, kept as it was.
    assert_eq!(log.record_count().await.unwrap(), 4);

    let after = log.load(demo::PLAN).await.unwrap();
    let ids = |l: &koers_store::Loaded| {
        let mut ids: Vec<_> = l.ops.iter().map(|o| o.id).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&after), ids(&before));
    assert_eq!(after.pending, before.pending);
    assert_eq!(after.unreadable, 1);
    assert_eq!(after.unpacked, 0);
    assert_eq!(
        Plan::from_replica(&replay(&after.ops)),
        Plan::from_replica(&replay(&before.ops))
    );

    // Pending operations are packed once acknowledged; removing the plan removes the packs.
    log.mark_acknowledged(&before.pending).await.unwrap();
    assert_eq!(log.compact(demo::PLAN, 1).await.unwrap(), 2);
    assert_eq!(log.record_count().await.unwrap(), 3);
    log.remove_plan(demo::PLAN).await.unwrap();
    assert!(log.load(demo::PLAN).await.unwrap().ops.is_empty());
    assert_eq!(log.record_count().await.unwrap(), 1);
}

#[wasm_bindgen_test]
async fn an_operation_stored_again_after_it_was_packed_loads_once() {
    let log = fresh("t-again").await;
    let ops = demo::plan_ops(today());
    log.append_remote(&ops).await.unwrap();
    log.compact(demo::PLAN, 1).await.unwrap();
    // Pulled a second time (a server restored from a backup hands the plan out again), packed
    // again, and once more stored one by one.
    log.append_remote(&ops).await.unwrap();
    log.compact(demo::PLAN, 1).await.unwrap();
    log.append_remote(&ops[..3]).await.unwrap();
    let loaded = log.load(demo::PLAN).await.unwrap();
    assert_eq!(loaded.ops.len(), ops.len());
    let mut ids: Vec<_> = loaded.ops.iter().map(|o| o.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), ops.len());
    assert_eq!(loaded.unpacked, 0);
}

#[wasm_bindgen_test]
async fn many_device_facts_are_read_in_one_go() {
    let log = fresh("t-many").await;
    log.set_meta("a", &1).await.unwrap();
    log.set_meta("c", &"drie").await.unwrap();
    let keys = ["a", "b", "c"].map(String::from);
    assert_eq!(
        log.meta_many(&keys).await.unwrap(),
        vec![Some("1".to_string()), None, Some("\"drie\"".to_string())]
    );
}

/// `count` acknowledged operations of `plan`, with ids made from `plan` so plans never share one.
fn ops_of(plan: koers_core::PlanId, count: usize) -> Vec<koers_core::Op> {
    let mut ops = demo::plan_ops(today());
    ops.truncate(count);
    for (n, op) in ops.iter_mut().enumerate() {
        op.plan = plan;
        op.id = koers_core::OpId(uuid::Uuid::from_u128((plan.0.as_u128() << 16) + n as u128));
    }
    ops
}

#[wasm_bindgen_test]
async fn loading_removing_and_packing_a_plan_touch_only_that_plan() {
    let log = fresh("t-ranges").await;
    // Neighbours: every key of the one plan sorts right next to the other's, both ways.
    let (a, b) = (
        koers_core::PlanId(uuid::Uuid::from_u128(0xa0)),
        koers_core::PlanId(uuid::Uuid::from_u128(0xa1)),
    );
    // Each plan: two packs, then 5 acknowledged operations stored one by one and 2 pending.
    let mut all = Vec::new();
    for plan in [a, b] {
        let ops = ops_of(plan, 27);
        log.append_remote(&ops[..10]).await.unwrap();
        assert_eq!(log.compact(plan, 1).await.unwrap(), 10);
        log.append_remote(&ops[10..20]).await.unwrap();
        assert_eq!(log.compact(plan, 1).await.unwrap(), 10);
        log.append_remote(&ops[20..25]).await.unwrap();
        log.append_local(&ops[25..]).await.unwrap();
        all.push(ops);
    }
    let [ops_a, ops_b] = [&all[0], &all[1]];
    // A damaged pack of b, and a damaged record that cannot tell its plan.
    log.put_raw(&format!("pack:{}:damaged", b.0), "{not json")
        .await
        .unwrap();
    log.put_raw("garbage", "{not json").await.unwrap();
    assert_eq!(log.record_count().await.unwrap(), 2 * (2 + 7) + 2);

    let ids = |ops: &[koers_core::Op]| {
        let mut ids: Vec<_> = ops.iter().map(|o| o.id).collect();
        ids.sort();
        ids
    };
    let shape = |l: &koers_store::Loaded| (l.pending.len(), l.unpacked, l.unreadable);
    let loaded = log.load(a).await.unwrap();
    assert_eq!(ids(&loaded.ops), ids(ops_a));
    assert_eq!(shape(&loaded), (2, 5, 1));
    let loaded = log.load(b).await.unwrap();
    assert_eq!(ids(&loaded.ops), ids(ops_b));
    assert_eq!(shape(&loaded), (2, 5, 2));

    // Packing a leaves b's operations stored one by one.
    assert_eq!(log.compact(a, 1).await.unwrap(), 5);
    assert_eq!(log.load(a).await.unwrap().unpacked, 0);
    assert_eq!(shape(&log.load(b).await.unwrap()), (2, 5, 2));

    // Removing a leaves b whole: its packs (the damaged one too), its single records, and the
    // record that cannot tell its plan.
    log.remove_plan(a).await.unwrap();
    assert!(log.load(a).await.unwrap().ops.is_empty());
    let loaded = log.load(b).await.unwrap();
    assert_eq!(ids(&loaded.ops), ids(ops_b));
    assert_eq!(shape(&loaded), (2, 5, 2));
    assert_eq!(log.record_count().await.unwrap(), 3 + 7 + 1);

    // Removing b takes its damaged pack too; only the record of no known plan stays.
    log.remove_plan(b).await.unwrap();
    assert_eq!(log.record_count().await.unwrap(), 1);
}
