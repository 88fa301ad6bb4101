//! Hybrid logical clock: timestamps that follow wall-clock time but never go backwards and order
//! every event in the plan totally, even across devices whose clocks disagree.
//!
//! Written here rather than taken from `uhlc`: the core must stay free of clocks (callers pass
//! `now`), which keeps merges deterministic and testable, and `uhlc`'s default clock panics on wasm.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Identifies one device (replica). Only breaks ties between equal clock readings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u64);

/// A point in the plan's history. Ordered by wall time, then counter, then node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hlc {
    pub millis: u64,
    pub counter: u32,
    pub node: NodeId,
}

/// How far ahead of the receiver's clock a timestamp may be before it is refused (5 minutes).
pub const MAX_DRIFT_MILLIS: u64 = 5 * 60 * 1000;

/// The first counter value that is refused. The text form has 7 counter digits, so a counter of
/// 10,000,000 or more would sort wrong as text (in SQLite and IndexedDB); the margin below that
/// leaves room for whatever a device already holds. [`Clock`] never reaches it: it moves its
/// millis on by one instead.
pub const COUNTER_LIMIT: u32 = 9_000_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error(
        "timestamp is {ahead_millis} ms ahead of this clock; check the device's date and time"
    )]
    TooFarAhead { ahead_millis: u64 },
    #[error("not a timestamp: {0}")]
    Malformed(String),
    #[error("the timestamp's counter {counter} is at or above the limit of {COUNTER_LIMIT}; give the change a new timestamp")]
    CounterNearLimit { counter: u32 },
}

impl Hlc {
    pub const ZERO: Hlc = Hlc {
        millis: 0,
        counter: 0,
        node: NodeId(0),
    };

    /// Refuses a timestamp further ahead of `now_millis` than [`MAX_DRIFT_MILLIS`].
    pub fn check_drift(&self, now_millis: u64) -> Result<(), ClockError> {
        let ahead = self.millis.saturating_sub(now_millis);
        if ahead > MAX_DRIFT_MILLIS {
            Err(ClockError::TooFarAhead {
                ahead_millis: ahead,
            })
        } else {
            Ok(())
        }
    }

    /// Refuses a timestamp whose counter is at or above [`COUNTER_LIMIT`].
    pub fn check_counter(&self) -> Result<(), ClockError> {
        if self.counter >= COUNTER_LIMIT {
            Err(ClockError::CounterNearLimit {
                counter: self.counter,
            })
        } else {
            Ok(())
        }
    }

    /// The smallest timestamp after `self` on `node` with a counter below [`COUNTER_LIMIT`]:
    /// the next counter, or, when that would reach the limit, the next millisecond. Saturates at
    /// the end of time rather than overflow.
    fn successor(self, node: NodeId) -> Hlc {
        if self.counter < COUNTER_LIMIT - 1 {
            Hlc {
                millis: self.millis,
                counter: self.counter + 1,
                node,
            }
        } else {
            Hlc {
                millis: self.millis.saturating_add(1),
                counter: 0,
                node,
            }
        }
    }
}

/// One device's clock. Issues strictly increasing timestamps.
#[derive(Clone, Debug)]
pub struct Clock {
    last: Hlc,
}

impl Clock {
    pub fn new(node: NodeId) -> Self {
        Clock {
            last: Hlc {
                millis: 0,
                counter: 0,
                node,
            },
        }
    }

    pub fn node(&self) -> NodeId {
        self.last.node
    }

    pub fn last(&self) -> Hlc {
        self.last
    }

    /// A new timestamp for a local event: later than every timestamp this clock issued or
    /// observed, with a counter below [`COUNTER_LIMIT`] (a burst that would reach it moves on to
    /// the next millisecond instead, so the clock never overflows).
    pub fn tick(&mut self, now_millis: u64) -> Hlc {
        let node = self.last.node;
        self.last = if now_millis > self.last.millis {
            Hlc {
                millis: now_millis,
                counter: 0,
                node,
            }
        } else {
            self.last.successor(node)
        };
        self.last
    }

    /// Takes in a timestamp seen from another device, so that later local events order after it.
    /// A remote counter at or near [`COUNTER_LIMIT`] (another device's bug) is not copied: the
    /// clock moves on to the next millisecond instead, which orders after it all the same.
    pub fn observe(&mut self, remote: Hlc, now_millis: u64) -> Result<(), ClockError> {
        remote.check_drift(now_millis)?;
        if remote.millis > self.last.millis
            || (remote.millis == self.last.millis && remote.counter > self.last.counter)
        {
            let node = self.last.node;
            self.last = if remote.counter < COUNTER_LIMIT {
                Hlc {
                    millis: remote.millis,
                    counter: remote.counter,
                    node,
                }
            } else {
                Hlc {
                    millis: remote.millis.saturating_add(1),
                    counter: 0,
                    node,
                }
            };
        }
        Ok(())
    }
}

// Serialized as a fixed-width string ("000001732390000000-0000000-00000000000000a1") so that text
// order equals time order, in SQLite and in IndexedDB alike.
impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:018}-{:07}-{:016x}",
            self.millis, self.counter, self.node.0
        )
    }
}

impl FromStr for Hlc {
    type Err = ClockError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ClockError::Malformed(s.chars().take(60).collect());
        let mut parts = s.split('-');
        let (Some(m), Some(c), Some(n), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        Ok(Hlc {
            millis: m.parse().map_err(|_| bad())?,
            counter: c.parse().map_err(|_| bad())?,
            node: NodeId(u64::from_str_radix(n, 16).map_err(|_| bad())?),
        })
    }
}

impl Serialize for Hlc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hlc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_increase_even_when_the_wall_clock_goes_back() {
        let mut c = Clock::new(NodeId(1));
        let a = c.tick(1_000);
        let b = c.tick(900);
        let d = c.tick(1_000);
        assert!(a < b && b < d);
        assert_eq!(
            c.tick(2_000),
            Hlc {
                millis: 2_000,
                counter: 0,
                node: NodeId(1)
            }
        );
    }

    #[test]
    fn observing_a_remote_event_orders_later_local_events_after_it() {
        let mut c = Clock::new(NodeId(1));
        let remote = Hlc {
            millis: 5_000,
            counter: 3,
            node: NodeId(2),
        };
        c.observe(remote, 4_000).unwrap();
        assert!(c.tick(4_000) > remote);
    }

    #[test]
    fn far_future_timestamps_are_refused() {
        let mut c = Clock::new(NodeId(1));
        let remote = Hlc {
            millis: 1_000 + MAX_DRIFT_MILLIS + 1,
            counter: 0,
            node: NodeId(2),
        };
        assert!(matches!(
            c.observe(remote, 1_000),
            Err(ClockError::TooFarAhead { .. })
        ));
        assert_eq!(c.last().millis, 0);
    }

    #[test]
    fn a_counter_at_its_end_moves_the_millis_on_instead_of_overflowing() {
        // Before COUNTER_LIMIT, observing this and ticking overflowed the u32 counter (a panic
        // in debug builds, a counter of 0 that sorted before the remote in release).
        let mut c = Clock::new(NodeId(1));
        let remote = Hlc {
            millis: 5_000,
            counter: u32::MAX,
            node: NodeId(2),
        };
        c.observe(remote, 5_000).unwrap();
        let next = c.tick(5_000);
        assert!(next > remote, "{next:?}");
        assert!(next.check_counter().is_ok(), "{next:?}");
        // A burst of ticks in one millisecond stops just below the limit.
        let mut c = Clock::new(NodeId(1));
        c.observe(
            Hlc {
                millis: 7_000,
                counter: COUNTER_LIMIT - 2,
                node: NodeId(2),
            },
            7_000,
        )
        .unwrap();
        let last_in_ms = c.tick(7_000);
        assert_eq!(
            (last_in_ms.millis, last_in_ms.counter),
            (7_000, COUNTER_LIMIT - 1)
        );
        let moved_on = c.tick(7_000);
        assert_eq!((moved_on.millis, moved_on.counter), (7_001, 0));
        assert!(moved_on.to_string().len() == last_in_ms.to_string().len());
        assert!(moved_on.to_string() > last_in_ms.to_string());
    }

    #[test]
    fn counters_at_the_limit_are_refused() {
        let at = |counter| Hlc {
            millis: 1,
            counter,
            node: NodeId(1),
        };
        assert!(at(COUNTER_LIMIT - 1).check_counter().is_ok());
        assert_eq!(
            at(COUNTER_LIMIT).check_counter(),
            Err(ClockError::CounterNearLimit {
                counter: COUNTER_LIMIT
            })
        );
        assert!(at(u32::MAX).check_counter().is_err());
        // The limit still fits the 7-digit text form.
        assert_eq!(at(COUNTER_LIMIT).to_string().len(), at(0).to_string().len());
    }

    #[test]
    fn text_form_round_trips_and_sorts_like_the_clock() {
        let a = Hlc {
            millis: 99,
            counter: 12,
            node: NodeId(0xabc),
        };
        let b = Hlc {
            millis: 100,
            counter: 0,
            node: NodeId(1),
        };
        assert_eq!(a.to_string().parse::<Hlc>().unwrap(), a);
        assert!(a.to_string() < b.to_string());
        assert!("12-x-1".parse::<Hlc>().is_err());
        assert!("1-2".parse::<Hlc>().is_err());
    }
}
