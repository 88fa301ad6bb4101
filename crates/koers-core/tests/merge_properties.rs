//! Merge rules under arbitrary delivery: order, duplicates, partitions.

use koers_core::*;
use proptest::prelude::*;
use serde_json::json;
use uuid::Uuid;

const PLAN: PlanId = PlanId(Uuid::from_u128(7));

fn entity(n: u8) -> Entity {
    match n % 4 {
        0 => Entity::Plan,
        1 => Entity::Goal(GoalId(Uuid::from_u128(1))),
        2 => Entity::Goal(GoalId(Uuid::from_u128(2))),
        _ => Entity::ContactMoment(ContactMomentId(Uuid::from_u128(3))),
    }
}

fn field(n: u8) -> Field {
    [Field::Title, Field::Status, Field::Note][n as usize % 3]
}

/// Ops with unique ids; clock readings from a small range so that ties (equal millis and counter
/// on different nodes) and concurrent writes to one field happen often.
fn ops(max: usize) -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        (
            0u64..20,
            0u32..3,
            0u64..3,
            0u8..4,
            0u8..3,
            0u8..3,
            any::<u16>(),
            any::<bool>(),
        ),
        1..max,
    )
    .prop_map(|raw| {
        let mut ops: Vec<Op> = Vec::new();
        for (i, (millis, counter, node, e, f, author, v, link)) in raw.into_iter().enumerate() {
            let entity = entity(e);
            let field = field(f);
            // Sometimes the author saw an earlier write to the same field.
            let supersedes = if link {
                ops.iter()
                    .rev()
                    .find(|o| o.entity == entity && o.field == field)
                    .map(|o| o.id)
            } else {
                None
            };
            ops.push(Op {
                id: OpId(Uuid::from_u128(1_000 + i as u128)),
                plan: PLAN,
                hlc: Hlc {
                    millis,
                    counter,
                    node: NodeId(node),
                },
                author: MemberId(Uuid::from_u128(author as u128)),
                entity,
                field,
                value: json!(format!("v{v}")),
                supersedes,
            });
        }
        ops
    })
}

fn replica_of<'a>(ops: impl IntoIterator<Item = &'a Op>) -> Replica {
    let mut r = Replica::new(PLAN);
    for op in ops {
        r.apply(op).unwrap();
    }
    r
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_order_with_duplicates_gives_the_same_plan(
        ops in ops(40),
        order in prop::collection::vec(any::<prop::sample::Index>(), 0..80),
    ) {
        let reference = replica_of(&ops);
        // Deliver every op at least once, in a shuffled order, with extra duplicates.
        let mut delivery: Vec<&Op> = order.iter().map(|i| i.get(&ops)).collect();
        delivery.extend(ops.iter().rev());
        let mut shuffled = delivery.clone();
        shuffled.sort_by_key(|o| (o.hlc.node.0 * 7 + o.id.0.as_u128() as u64 * 13) % 17);
        for delivery in [delivery, shuffled] {
            let r = replica_of(delivery);
            prop_assert_eq!(&r, &reference);
            prop_assert_eq!(Plan::from_replica(&r), Plan::from_replica(&reference));
            prop_assert_eq!(r.op_count(), ops.len());
        }
    }

    #[test]
    fn no_written_value_disappears_from_current_state_and_history_together(ops in ops(40)) {
        let r = replica_of(&ops);
        for op in &ops {
            let reg = r.register(op.entity, op.field).expect("a register for every written field");
            let kept = reg.writes().iter().any(|w| w.op == op.id && w.value == op.value && w.author == op.author);
            prop_assert!(kept, "op {} lost", op.id);
        }
        // The current value is the write with the highest (hlc, op id).
        for (entity, field, reg) in r.registers() {
            let winner = ops.iter().filter(|o| o.entity == *entity && o.field == field)
                .max_by_key(|o| (o.hlc, o.id)).unwrap();
            prop_assert_eq!(reg.current().op, winner.id);
        }
    }

    #[test]
    fn three_replicas_with_partitions_and_duplicate_deliveries_converge(
        ops in ops(60),
        // For each op: which replica makes it, and per round which replicas it reaches.
        origin in prop::collection::vec(0usize..3, 60),
        reach in prop::collection::vec((any::<bool>(), any::<bool>(), any::<bool>()), 60),
    ) {
        let mut replicas = [Replica::new(PLAN), Replica::new(PLAN), Replica::new(PLAN)];
        let mut logs: [Vec<Op>; 3] = Default::default();
        // Partitioned phase: each op lands on its origin and, maybe, on some others (twice, sometimes).
        for (i, op) in ops.iter().enumerate() {
            let o = origin[i];
            replicas[o].apply(op).unwrap();
            logs[o].push(op.clone());
            let (a, b, c) = reach[i];
            for (k, hit) in [a, b, c].into_iter().enumerate() {
                if hit {
                    replicas[k].apply(op).unwrap();
                    replicas[k].apply(op).unwrap();
                }
            }
        }
        // Partition heals: every replica receives every other replica's log (in reverse, for spite).
        for (k, replica) in replicas.iter_mut().enumerate() {
            for (j, log) in logs.iter().enumerate() {
                if j != k {
                    for op in log.iter().rev() {
                        replica.apply(op).unwrap();
                    }
                }
            }
        }
        prop_assert_eq!(&replicas[0], &replicas[1]);
        prop_assert_eq!(&replicas[1], &replicas[2]);
        let plans: Vec<Plan> = replicas.iter().map(Plan::from_replica).collect();
        prop_assert_eq!(&plans[0], &plans[1]);
        prop_assert_eq!(&plans[1], &plans[2]);
        for op in &ops {
            prop_assert!(replicas[0].register(op.entity, op.field).unwrap().writes().iter().any(|w| w.op == op.id));
        }
    }
}

#[test]
fn concurrent_changes_are_flagged_and_both_values_kept() {
    let goal = Entity::Goal(GoalId(Uuid::from_u128(1)));
    let mk = |id: u128, millis: u64, author: u128, value: &str, supersedes: Option<u128>| Op {
        id: OpId(Uuid::from_u128(id)),
        plan: PLAN,
        hlc: Hlc {
            millis,
            counter: 0,
            node: NodeId(author as u64),
        },
        author: MemberId(Uuid::from_u128(author)),
        entity: goal,
        field: Field::Title,
        value: json!(value),
        supersedes: supersedes.map(|s| OpId(Uuid::from_u128(s))),
    };
    let first = mk(1, 10, 1, "Samen ontbijten", None);
    let seen = mk(2, 20, 2, "Samen ontbijten in het weekend", Some(1));
    let mut r = replica_of([&first, &seen]);
    assert_eq!(
        r.register(goal, Field::Title).unwrap().concurrent_change(),
        None
    );

    // A third person edits the first version offline; their later clock wins, nothing is lost.
    let crossed = mk(3, 30, 3, "Ontbijten op zaterdag", Some(1));
    r.apply(&crossed).unwrap();
    let reg = r.register(goal, Field::Title).unwrap();
    assert_eq!(reg.current().value, json!("Ontbijten op zaterdag"));
    assert_eq!(reg.history().len(), 2);
    assert_eq!(
        reg.history()[1].value,
        json!("Samen ontbijten in het weekend")
    );
    assert_eq!(
        reg.concurrent_change(),
        Some((MemberId(Uuid::from_u128(2)), MemberId(Uuid::from_u128(3))))
    );
    assert!(r.has_concurrent_change(goal));
}

#[test]
fn an_op_for_another_plan_is_refused_and_changes_nothing() {
    let mut r = Replica::new(PLAN);
    let op = Op {
        id: OpId(Uuid::from_u128(1)),
        plan: PlanId(Uuid::from_u128(99)),
        hlc: Hlc::ZERO,
        author: MemberId(Uuid::nil()),
        entity: Entity::Plan,
        field: Field::ChildName,
        value: json!("X"),
        supersedes: None,
    };
    assert_eq!(r.apply(&op), Err(WrongPlan));
    assert_eq!(r.op_count(), 0);
}
