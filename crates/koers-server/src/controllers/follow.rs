//! Following a plan's event stream: the access check, a stream place of the device, and what it
//! hears until it is shut out. Shared by the per-plan stream (`GET /api/plans/{plan}/events`,
//! [`super::events::events`]) and the stream of many plans (`GET /api/events`,
//! [`super::events::events_all`]), so that both admit, count and end a device the same way.

use futures_util::Stream;
use koers_core::{MemberId, PlanId};
use tokio::sync::broadcast::error::RecvError;

use crate::auth::AuthDevice;
use crate::error::ApiError;
use crate::plans::{catch_up, PlanEvent};
use crate::AppState;
use koers_database::{DatabaseError, DeviceId, Seq};

/// What a device following a plan hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// The plan's newest seq: on connecting, then after each batch that stored new operations.
    Ops(i64),
    /// The device no longer follows the plan, and why (`device_revoked`, `member_removed`, or
    /// `server_error` when the server could not tell): always the last thing heard.
    Closed(&'static str),
}

/// Starts following `plan_id` for `device`: the access check, one of the device's stream places
/// (held until the returned stream is dropped), then what it hears, ending after
/// [`Heard::Closed`].
pub async fn follow(
    state: &AppState,
    device: &AuthDevice,
    plan_id: PlanId,
) -> Result<impl Stream<Item = Heard> + Send + 'static, ApiError> {
    device.admit(state, plan_id).await?;
    // Issue 10, server limits: a few streams per device; the place is held by the stream.
    let place = state
        .limits
        .open_stream(&device.record.device.to_string())?;
    // Subscribe before reading the current seq, so that nothing falls in between.
    let receiver = state.plans.subscribe(plan_id);
    // Checked again now that the stream listens: a removal between the first check and the
    // subscription would otherwise go unheard.
    device.admit(state, plan_id).await?;
    let current = state.db.head(plan_id).await?;
    let listener = Listener {
        first: Some(current),
        closed: false,
        receiver,
        state: state.clone(),
        plan: plan_id,
        device: device.record.device,
        member: device.member,
    };
    let stream = futures_util::stream::unfold(listener, |mut listener| async move {
        let heard = listener.next().await?;
        Some((heard, listener))
    });
    Ok(crate::limits::guarded(stream, place))
}

/// One event-stream subscriber.
struct Listener {
    /// The seq to tell on connecting.
    first: Option<i64>,
    /// [`Heard::Closed`] was told: nothing follows.
    closed: bool,
    receiver: tokio::sync::broadcast::Receiver<PlanEvent>,
    state: AppState,
    plan: PlanId,
    device: DeviceId,
    member: MemberId,
}

impl Listener {
    /// What to tell next, or `None` once the stream was closed.
    async fn next(&mut self) -> Option<Heard> {
        if self.closed {
            return None;
        }
        let heard = self.hear().await;
        self.closed = matches!(heard, Heard::Closed(_));
        Some(heard)
    }

    async fn hear(&mut self) -> Heard {
        if let Some(seq) = self.first.take() {
            return Heard::Ops(seq);
        }
        loop {
            match self.receiver.recv().await {
                Ok(PlanEvent::Ops(seq)) => return Heard::Ops(seq),
                Ok(PlanEvent::DeviceRevoked(device)) if device == self.device => {
                    return Heard::Closed("device_revoked")
                }
                Ok(PlanEvent::DeviceRevoked(_)) => continue,
                Ok(PlanEvent::MemberRemoved(member)) if member == self.member => {
                    return Heard::Closed("member_removed")
                }
                Ok(PlanEvent::MemberRemoved(_)) => continue,
                // Skipped messages (this stream fell behind, or the bus between the instances
                // reconnected): a revocation or removal may have been among them, so ask the
                // plan and the database, then tell the head, which may have moved meanwhile.
                Err(RecvError::Lagged(_)) | Ok(PlanEvent::Resync) => {
                    match self.still_admitted().await {
                        Ok(Ok(head)) => return Heard::Ops(head),
                        Ok(Err(code)) => return Heard::Closed(code),
                        Err(_) => return Heard::Closed("server_error"),
                    }
                }
                Err(RecvError::Closed) => return Heard::Closed("server_error"),
            }
        }
    }

    /// The plan's head while the device may still follow the plan, else why not. The plan is
    /// read up to the database's head first: another instance may have taken the member out.
    async fn still_admitted(&self) -> Result<Result<Seq, &'static str>, DatabaseError> {
        let state = &self.state;
        let db = state.db.as_ref();
        let head = db.head(self.plan).await?;
        let member = {
            let mut locked = state.plans.lock(db, self.plan).await?;
            if locked.state().last_seq < head {
                catch_up(db, locked.state()).await?;
            }
            locked.state().has_member(self.member)
        };
        if !member {
            return Ok(Err("member_removed"));
        }
        let devices = db.devices(self.plan).await?;
        let revoked = devices
            .iter()
            .any(|d| d.device == self.device && d.revoked_at.is_some());
        Ok(if revoked {
            Err("device_revoked")
        } else {
            Ok(head)
        })
    }
}
