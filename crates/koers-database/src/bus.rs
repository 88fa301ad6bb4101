//! How server instances tell each other's event streams what happened to a plan. After a write
//! commits, the instance that wrote it publishes a small [`Notice`]; every instance (itself
//! included) hears it from [`Bus::subscribe`] and relays it to the streams it holds.
//!
//! One process needs no more than [`LocalBus`]; the PostgreSQL backend carries notices with
//! `LISTEN/NOTIFY`. Another bus (a message broker) would implement the same trait.

use koers_core::{MemberId, PlanId};
use tokio::sync::broadcast;

use crate::{DbFuture, DeviceId, Seq};

/// Notices a slow relay may fall behind before it skips (it then tells every stream to check
/// the plan again, as after [`Notice::Resync`]).
pub const BUS_BUFFER: usize = 4096;

/// What happened to a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// New operations were stored: the plan's head now.
    Ops { plan: PlanId, head: Seq },
    /// This device was revoked: its streams end.
    DeviceRevoked { plan: PlanId, device: DeviceId },
    /// This member was taken out of the plan: the streams of all their devices end.
    MemberRemoved { plan: PlanId, member: MemberId },
    /// Notices may have been lost (the bus reconnected, or the relay fell behind): every stream
    /// should check its plan's head and its access again.
    Resync,
}

impl Notice {
    /// A short line for a bus that carries text (PostgreSQL's NOTIFY payload is at most 8000
    /// bytes; these are under 80): `o <plan> <head>`, `d <plan> <device>`, `m <plan> <member>`.
    pub fn encode(&self) -> String {
        match self {
            Notice::Ops { plan, head } => format!("o {plan} {head}"),
            Notice::DeviceRevoked { plan, device } => format!("d {plan} {device}"),
            Notice::MemberRemoved { plan, member } => format!("m {plan} {member}"),
            Notice::Resync => "r".to_owned(),
        }
    }

    /// Reads [`Notice::encode`] back; `None` for anything else (a notice from a newer build is
    /// ignored rather than misread).
    pub fn decode(text: &str) -> Option<Notice> {
        let mut parts = text.split(' ');
        let kind = parts.next()?;
        if kind == "r" {
            return parts.next().is_none().then_some(Notice::Resync);
        }
        let plan = PlanId(parts.next()?.parse().ok()?);
        let value = parts.next()?;
        if parts.next().is_some() {
            return None;
        }
        match kind {
            "o" => Some(Notice::Ops {
                plan,
                head: value.parse().ok()?,
            }),
            "d" => Some(Notice::DeviceRevoked {
                plan,
                device: DeviceId(value.parse().ok()?),
            }),
            "m" => Some(Notice::MemberRemoved {
                plan,
                member: MemberId(value.parse().ok()?),
            }),
            _ => None,
        }
    }
}

/// Carries notices between the server instances of one database.
pub trait Bus: Send + Sync + 'static {
    /// Sends a notice to every instance, this one included. Called after the write it tells of
    /// committed; a notice that cannot be sent is lost (phones still find the change on their
    /// next round), so callers log the error and go on.
    fn publish(&self, notice: Notice) -> DbFuture<'_, ()>;

    /// Every notice published from now on, by any instance.
    fn subscribe(&self) -> broadcast::Receiver<Notice>;
}

/// The bus of a single server process: a broadcast channel.
#[derive(Debug)]
pub struct LocalBus {
    sender: broadcast::Sender<Notice>,
}

impl Default for LocalBus {
    fn default() -> Self {
        LocalBus {
            sender: broadcast::channel(BUS_BUFFER).0,
        }
    }
}

impl LocalBus {
    /// Hands a notice to every subscriber of this process (what a bus delivers on receipt).
    pub fn deliver(&self, notice: Notice) {
        // No subscriber yet is fine: nobody follows any plan.
        let _ = self.sender.send(notice);
    }
}

impl Bus for LocalBus {
    fn publish(&self, notice: Notice) -> DbFuture<'_, ()> {
        self.deliver(notice);
        Box::pin(async { Ok(()) })
    }

    fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.sender.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn notices_read_back_as_written_and_anything_else_is_ignored() {
        let plan = PlanId(Uuid::new_v4());
        for notice in [
            Notice::Ops { plan, head: 5012 },
            Notice::DeviceRevoked {
                plan,
                device: DeviceId::new(),
            },
            Notice::MemberRemoved {
                plan,
                member: MemberId(Uuid::new_v4()),
            },
            Notice::Resync,
        ] {
            assert_eq!(Notice::decode(&notice.encode()), Some(notice));
        }
        for junk in [
            "",
            "x",
            "o",
            "o nope 1",
            &format!("o {plan}"),
            &format!("o {plan} 1 2"),
            "r r",
            &format!("q {plan} 1"),
        ] {
            assert_eq!(Notice::decode(junk), None, "{junk:?}");
        }
    }
}
