//! Following a plan's event stream: the access check, a stream place of the device, and what it
//! hears until it is shut out. Shared by the per-plan stream (`GET /api/plans/{plan}/events`,
//! [`crate::sync::events`]) and the stream of many plans (`GET /api/events`,
//! [`crate::sync_all::events_all`]), so that both admit, count and end a device the same way.

use axum::response::sse::KeepAlive;
use futures_util::Stream;
use koers_core::{MemberId, PlanId};
use tokio::sync::broadcast::error::RecvError;

use crate::auth::AuthDevice;
use crate::error::ApiError;
use crate::plans::PlanEvent;
use crate::store::StoreError;
use crate::sync::KEEP_ALIVE;
use crate::AppState;

/// The keep-alive of every event stream.
pub fn keep_alive() -> KeepAlive {
    KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive")
}

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
    let place = state.limits.open_stream(&device.record.device_id)?;
    // Subscribe before reading the current seq, so that nothing falls in between.
    let receiver = state.plans.subscribe(plan_id);
    // Checked again now that the stream listens: a removal between the first check and the
    // subscription would otherwise go unheard.
    device.admit(state, plan_id).await?;
    let current = state.store.last_seq(&plan_id.to_string()).await?;
    let listener = Listener {
        first: Some(current),
        closed: false,
        receiver,
        state: state.clone(),
        plan: plan_id,
        device: device.record.device_id.clone(),
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
    device: String,
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
                // Skipped messages: the newest seq comes with the next one, but a revocation or
                // removal may have been among them, so ask the plan and the store.
                Err(RecvError::Lagged(_)) => match self.still_admitted().await {
                    Ok(None) => continue,
                    Ok(Some(code)) => return Heard::Closed(code),
                    Err(_) => return Heard::Closed("server_error"),
                },
                Err(RecvError::Closed) => return Heard::Closed("server_error"),
            }
        }
    }

    /// `None` while the device may still follow the plan, else why not.
    async fn still_admitted(&self) -> Result<Option<&'static str>, StoreError> {
        let state = &self.state;
        let member = {
            let mut locked = state.plans.lock(state.store.as_ref(), self.plan).await?;
            locked.state().has_member(self.member)
        };
        if !member {
            return Ok(Some("member_removed"));
        }
        let devices = state.store.devices(&self.plan.to_string()).await?;
        let revoked = devices
            .iter()
            .any(|d| d.device_id == self.device && d.revoked_at.is_some());
        Ok(revoked.then_some("device_revoked"))
    }
}
