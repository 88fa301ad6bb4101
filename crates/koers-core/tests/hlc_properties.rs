//! The clock under arbitrary input: whatever the wall clock does and whatever other devices send,
//! every tick is later than everything before it, its counter stays below the limit and nothing
//! overflows.

use koers_core::hlc::{Clock, Hlc, NodeId, COUNTER_LIMIT, MAX_DRIFT_MILLIS};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Step {
    /// A local event at this wall-clock reading.
    Tick(u64),
    /// A timestamp from another device, read at this wall-clock reading.
    Observe { millis: u64, counter: u32, now: u64 },
}

/// Counters from all over the range, with the edges (0, just below and at the limit, the end of
/// u32) often; millis from a small range so that bursts within one millisecond are common.
fn counter() -> impl Strategy<Value = u32> {
    prop_oneof![
        0u32..5,
        (COUNTER_LIMIT - 3)..(COUNTER_LIMIT + 3),
        (u32::MAX - 3)..=u32::MAX,
        any::<u32>(),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u64..50).prop_map(Step::Tick),
        (0u64..50, counter(), 0u64..50).prop_map(|(millis, counter, now)| Step::Observe {
            millis,
            counter,
            now,
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn ticks_increase_stay_below_the_counter_limit_and_pass_what_was_observed(
        steps in prop::collection::vec(step(), 1..200),
    ) {
        let mut clock = Clock::new(NodeId(1));
        // The latest timestamp issued or taken in: every next tick must be after it.
        let mut floor = Hlc::ZERO;
        for step in steps {
            match step {
                Step::Tick(now) => {
                    let t = clock.tick(now);
                    prop_assert!(t > floor, "{t:?} not after {floor:?}");
                    prop_assert!(t.check_counter().is_ok(), "{t:?}");
                    prop_assert!(t.counter < COUNTER_LIMIT);
                    prop_assert!(t.millis >= now);
                    prop_assert_eq!(t.to_string().len(), Hlc::ZERO.to_string().len());
                    floor = t;
                }
                Step::Observe { millis, counter, now } => {
                    let remote = Hlc { millis, counter, node: NodeId(2) };
                    let accepted = clock.observe(remote, now).is_ok();
                    prop_assert_eq!(accepted, millis <= now + MAX_DRIFT_MILLIS);
                    prop_assert!(clock.last().counter < COUNTER_LIMIT);
                    if accepted {
                        floor = floor.max(remote);
                    }
                }
            }
        }
    }
}
