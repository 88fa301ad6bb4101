//! The current state of each plan, kept in memory for authorization: its merged [`Replica`], the
//! [`Plan`] projected from it and its newest sequence number. Loaded from the store on first use,
//! updated as operations are accepted. One lock per plan serialises its writers.
//!
//! Also the per-plan broadcast channels that tell event-stream subscribers about new operations
//! and revoked devices.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use koers_core::{Entity, Op, Plan, PlanId, Replica};
use tokio::sync::{broadcast, OwnedMutexGuard};

use crate::store::{Store, StoreError};

/// Operations read per query while loading a plan.
const LOAD_PAGE: u32 = 1000;
/// Notifications a slow event subscriber may fall behind before it skips (harmless: each one
/// carries the newest seq).
const EVENT_BUFFER: usize = 16;

/// What an event-stream subscriber of a plan is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanEvent {
    /// A batch stored new operations; the plan's newest seq.
    Ops(i64),
    /// This device was revoked: its streams end.
    DeviceRevoked(String),
}

/// A plan as the server knows it.
#[derive(Debug, Clone)]
pub struct PlanState {
    pub replica: Replica,
    pub plan: Plan,
    pub last_seq: i64,
}

impl PlanState {
    pub fn new(replica: Replica, last_seq: i64) -> Self {
        let plan = Plan::from_replica(&replica);
        PlanState {
            replica,
            plan,
            last_seq,
        }
    }

    /// Re-derives [`PlanState::plan`] after ops were applied to the replica.
    pub fn project(&mut self) {
        self.plan = Plan::from_replica(&self.replica);
    }
}

/// True if applying `op` can change what [`koers_core::authorize`] decides for later ops
/// (membership and roles, goal owners, phase, consents, the decision).
pub fn affects_authorization(op: &Op) -> bool {
    matches!(
        op.entity,
        Entity::Plan | Entity::Member(_) | Entity::Consent(_) | Entity::Goal(_) | Entity::Decision
    )
}

type Slot = Arc<tokio::sync::Mutex<Option<PlanState>>>;

/// All plans the server has touched since it started.
#[derive(Default)]
pub struct Plans {
    slots: Mutex<HashMap<PlanId, Slot>>,
    events: Mutex<HashMap<PlanId, broadcast::Sender<PlanEvent>>>,
}

impl std::fmt::Debug for Plans {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plans").finish_non_exhaustive()
    }
}

/// Exclusive access to one loaded plan.
pub struct LockedPlan(OwnedMutexGuard<Option<PlanState>>);

impl LockedPlan {
    pub fn state(&mut self) -> &mut PlanState {
        self.0.as_mut().expect("a locked plan is loaded")
    }

    /// Forgets the in-memory state (after a failed write), so the next use reloads it.
    pub fn invalidate(mut self) {
        *self.0 = None;
    }
}

impl Plans {
    fn slot(&self, id: PlanId) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(slots.entry(id).or_default())
    }

    /// Locks a plan, loading it from the store if it is not in memory.
    pub async fn lock(&self, store: &dyn Store, id: PlanId) -> Result<LockedPlan, StoreError> {
        let mut guard = self.slot(id).lock_owned().await;
        if guard.is_none() {
            *guard = Some(load(store, id).await?);
        }
        Ok(LockedPlan(guard))
    }

    /// Puts a freshly created plan in memory (unless something already loaded it).
    pub async fn insert(&self, id: PlanId, state: PlanState) {
        let slot = self.slot(id);
        let mut guard = slot.lock().await;
        if guard.is_none() {
            *guard = Some(state);
        }
    }

    fn sender(&self, id: PlanId) -> broadcast::Sender<PlanEvent> {
        let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        events
            .entry(id)
            .or_insert_with(|| broadcast::channel(EVENT_BUFFER).0)
            .clone()
    }

    /// Listens for a plan's events.
    pub fn subscribe(&self, id: PlanId) -> broadcast::Receiver<PlanEvent> {
        self.sender(id).subscribe()
    }

    /// Tells the plan's subscribers something.
    pub fn notify(&self, id: PlanId, event: PlanEvent) {
        let events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = events.get(&id) {
            // No receivers is fine.
            let _ = sender.send(event);
        }
    }
}

/// Reads every stored operation of a plan and merges them.
async fn load(store: &dyn Store, id: PlanId) -> Result<PlanState, StoreError> {
    let key = id.to_string();
    let mut replica = Replica::new(id);
    let mut last_seq = 0;
    loop {
        let page = store.ops_after(&key, last_seq, LOAD_PAGE).await?;
        let Some((seq, _)) = page.last() else { break };
        last_seq = *seq;
        for (seq, body) in &page {
            match serde_json::from_str::<Op>(body) {
                Ok(op) => {
                    let _ = replica.apply(&op);
                }
                Err(err) => {
                    tracing::warn!(plan = %id, seq, error = %err, "stored op does not parse; skipped")
                }
            }
        }
    }
    Ok(PlanState::new(replica, last_seq))
}
