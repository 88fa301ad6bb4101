//! The current state of each plan, kept in memory for authorization: its merged [`Replica`], the
//! [`Plan`] projected from it and its newest sequence number. Loaded from the store on first use,
//! updated as operations are accepted. One lock per plan serialises its writers. At most
//! [`LOADED_PLANS`] stay loaded: beyond that the least recently used idle plan is unloaded (the
//! store has all of it; it is read again on its next use).
//!
//! Also the per-plan broadcast channels that tell event-stream subscribers about new operations
//! and revoked devices.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use koers_core::{MemberId, Op, Plan, PlanId, Replica};
use tokio::sync::{broadcast, OwnedMutexGuard};

use crate::store::{Store, StoreError};

/// Plans kept in memory. A year's plan (about 5,000 operations) is a few MB, so this bounds the
/// server's memory while every active family's plan stays loaded.
pub const LOADED_PLANS: usize = 200;
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
    /// This member was taken out of the plan: the streams of all their devices end, whether or
    /// not a device row was revoked.
    MemberRemoved(MemberId),
}

/// A plan as the server knows it.
#[derive(Debug, Clone)]
pub struct PlanState {
    pub replica: Replica,
    pub plan: Plan,
    pub last_seq: i64,
    /// When the plan was founded: the smallest HLC millis of its founding operations. Set from
    /// the founding batch on creation and, on load, from all stored operations (the same value,
    /// as nothing dated earlier is accepted; older data can only make it earlier, never refuse
    /// more). Operations dated before it are refused (`before_plan`).
    pub founded_millis: u64,
    /// What the plan has used of the server's limits (issue 10; see [`crate::limits`]).
    pub usage: crate::limits::Usage,
}

impl PlanState {
    pub fn new(replica: Replica, last_seq: i64) -> Self {
        let plan = Plan::from_replica(&replica);
        let founded_millis = replica
            .registers()
            .flat_map(|(_, _, register)| register.writes())
            .map(|write| write.hlc.millis)
            .min()
            .unwrap_or(0);
        PlanState {
            founded_millis,
            replica,
            plan,
            last_seq,
            usage: crate::limits::Usage::default(),
        }
    }

    /// True if `member` belongs to the plan now (not taken out).
    pub fn has_member(&self, member: MemberId) -> bool {
        self.plan.member(member).is_some()
    }

    /// Re-derives [`PlanState::plan`] after ops were applied to the replica.
    pub fn project(&mut self) {
        self.plan = Plan::from_replica(&self.replica);
    }
}

/// True if applying `op` can change what [`koers_core::authorize`] decides for later ops
/// (membership and roles, goal owners, phase, consents, the decision, who wrote a comment or a
/// view): the core says, as it is the one that reads them.
pub fn affects_authorization(op: &Op) -> bool {
    koers_core::affects_authorization(op)
}

type Slot = Arc<tokio::sync::Mutex<Option<PlanState>>>;

/// The plans in memory, and when each was last used.
pub struct Plans {
    capacity: usize,
    slots: Mutex<Slots>,
    events: Mutex<HashMap<PlanId, broadcast::Sender<PlanEvent>>>,
}

#[derive(Default)]
struct Slots {
    by_plan: HashMap<PlanId, (Slot, u64)>,
    uses: u64,
}

impl Default for Plans {
    fn default() -> Self {
        Plans::with_capacity(LOADED_PLANS)
    }
}

impl std::fmt::Debug for Plans {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plans").finish_non_exhaustive()
    }
}

/// Exclusive access to one loaded plan.
pub struct LockedPlan {
    guard: OwnedMutexGuard<Option<PlanState>>,
    /// A write is under way: the in-memory state may be ahead of the store.
    writing: bool,
}

impl LockedPlan {
    pub fn state(&mut self) -> &mut PlanState {
        self.guard.as_mut().expect("a locked plan is loaded")
    }

    /// Marks the start of a write that changes the in-memory state before the store commits.
    /// Dropped before [`LockedPlan::write_done`] — the request was cancelled (the client hung
    /// up, or it timed out) while the store committed, or not — the state is forgotten and read
    /// again from the store on its next use, rather than kept with a batch that may not be
    /// stored or a last seq that is behind.
    pub fn begin_write(&mut self) {
        self.writing = true;
    }

    /// The write is stored and the in-memory state follows it.
    pub fn write_done(&mut self) {
        self.writing = false;
    }

    /// Forgets the in-memory state (after a failed write), so the next use reloads it.
    pub fn invalidate(mut self) {
        *self.guard = None;
    }
}

impl Drop for LockedPlan {
    fn drop(&mut self) {
        if self.writing {
            *self.guard = None;
        }
    }
}

impl Plans {
    /// Keeps at most `capacity` plans loaded (more while more are in use at once).
    pub fn with_capacity(capacity: usize) -> Self {
        Plans {
            capacity,
            slots: Mutex::default(),
            events: Mutex::default(),
        }
    }

    fn slot(&self, id: PlanId) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.uses += 1;
        let used = slots.uses;
        let (slot, last_used) = slots.by_plan.entry(id).or_default();
        *last_used = used;
        Arc::clone(slot)
    }

    /// Unloads the least recently used plans beyond the capacity. A plan someone holds or waits
    /// for (its slot shared) stays, so no lock ever guards a state that was dropped.
    fn evict(&self) {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        while slots.by_plan.len() > self.capacity {
            let idle = slots
                .by_plan
                .iter()
                .filter(|(_, (slot, _))| Arc::strong_count(slot) == 1)
                .min_by_key(|(_, (_, used))| *used)
                .map(|(id, _)| *id);
            let Some(id) = idle else { break };
            slots.by_plan.remove(&id);
        }
    }

    /// How many plans are in memory.
    pub fn loaded(&self) -> usize {
        let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.by_plan.len()
    }

    /// Locks a plan, loading it from the store if it is not in memory.
    pub async fn lock(&self, store: &dyn Store, id: PlanId) -> Result<LockedPlan, StoreError> {
        let mut guard = self.slot(id).lock_owned().await;
        if guard.is_none() {
            *guard = Some(load(store, id).await?);
            self.evict();
        }
        Ok(LockedPlan {
            guard,
            writing: false,
        })
    }

    /// Puts a freshly created plan in memory (unless something already loaded it).
    pub async fn insert(&self, id: PlanId, state: PlanState) {
        let slot = self.slot(id);
        let mut guard = slot.lock().await;
        if guard.is_none() {
            *guard = Some(state);
        }
        drop(guard);
        drop(slot);
        self.evict();
    }

    /// Listens for a plan's events.
    pub fn subscribe(&self, id: PlanId) -> broadcast::Receiver<PlanEvent> {
        // Under the lock, so `notify` cannot drop the channel between finding and joining it.
        let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        events
            .entry(id)
            .or_insert_with(|| broadcast::channel(EVENT_BUFFER).0)
            .subscribe()
    }

    /// Tells the plan's subscribers something.
    pub fn notify(&self, id: PlanId, event: PlanEvent) {
        let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        let unheard = events
            .get(&id)
            .is_some_and(|sender| sender.send(event).is_err());
        if unheard {
            // Nobody listens any more: the channel goes, a new subscriber makes a new one.
            events.remove(&id);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;
    use koers_core::founding::{plan_ops, NewPlan};
    use koers_core::{Clock, NodeId, Role};

    /// Stores a new plan for a child named `child` and returns its id.
    async fn stored_plan(store: &SqliteStore, child: &str) -> PlanId {
        let new = NewPlan {
            child_name: child.into(),
            start_date: chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
            founder_name: "Lotte".into(),
            members: vec![("Mirjam".into(), Role::Parent)],
        };
        let (plan, _, ops) = plan_ops(
            &new,
            &mut Clock::new(NodeId(7)),
            1_767_600_000_000,
            uuid::Uuid::new_v4,
        );
        let rows: Vec<_> = ops
            .iter()
            .map(|op| (op.id.0.to_string(), serde_json::to_string(op).unwrap()))
            .collect();
        store
            .append_ops(&plan.to_string(), &rows, &[], "2026-01-05T08:00:00.000Z")
            .await
            .unwrap();
        plan
    }

    #[tokio::test]
    async fn beyond_its_capacity_the_least_recently_used_plan_is_unloaded_and_comes_back_whole() {
        let store = SqliteStore::open_in_memory().unwrap();
        let plans = Plans::with_capacity(2);
        let (noa, sam, ella) = (
            stored_plan(&store, "Noa").await,
            stored_plan(&store, "Sam").await,
            stored_plan(&store, "Ella").await,
        );
        for id in [noa, sam, noa, ella] {
            drop(plans.lock(&store, id).await.unwrap());
        }
        // Sam was used least recently: unloaded. Noa and Ella stay.
        assert_eq!(plans.loaded(), 2);
        assert!(!plans.slots.lock().unwrap().by_plan.contains_key(&sam));
        let mut again = plans.lock(&store, sam).await.unwrap();
        assert_eq!(again.state().plan.child_name, "Sam");
        assert_eq!(again.state().plan.members.len(), 2);
        assert_eq!(
            again.state().last_seq,
            store.last_seq(&sam.to_string()).await.unwrap()
        );
    }

    #[tokio::test]
    async fn a_write_dropped_half_way_leaves_no_state_ahead_of_the_store() {
        let store = SqliteStore::open_in_memory().unwrap();
        let plans = Plans::default();
        let noa = stored_plan(&store, "Noa").await;
        let stored = store.last_seq(&noa.to_string()).await.unwrap();
        {
            // A push cancelled (client gone, timeout) after changing the plan in memory.
            let mut locked = plans.lock(&store, noa).await.unwrap();
            locked.begin_write();
            locked.state().last_seq = stored + 10;
            locked.state().plan.child_name = "not stored".into();
        }
        let mut again = plans.lock(&store, noa).await.unwrap();
        assert_eq!(again.state().last_seq, stored);
        assert_eq!(again.state().plan.child_name, "Noa");
        // A write that finished keeps its state.
        again.begin_write();
        again.state().last_seq = stored + 1;
        again.write_done();
        drop(again);
        assert_eq!(
            plans.lock(&store, noa).await.unwrap().state().last_seq,
            stored + 1
        );
    }

    #[tokio::test]
    async fn a_plan_in_use_is_never_unloaded() {
        let store = SqliteStore::open_in_memory().unwrap();
        let plans = Plans::with_capacity(1);
        let (noa, sam) = (
            stored_plan(&store, "Noa").await,
            stored_plan(&store, "Sam").await,
        );
        let mut held = plans.lock(&store, noa).await.unwrap();
        drop(plans.lock(&store, sam).await.unwrap());
        // Noa is held, so Sam went instead; what the holder changes is not lost to a reload.
        held.state().last_seq = 999;
        drop(held);
        assert_eq!(plans.lock(&store, noa).await.unwrap().state().last_seq, 999);
    }

    #[tokio::test]
    async fn a_plan_nobody_follows_keeps_no_event_channel() {
        let plans = Plans::default();
        let plan = PlanId(uuid::Uuid::new_v4());
        let mut listener = plans.subscribe(plan);
        plans.notify(plan, PlanEvent::Ops(1));
        assert_eq!(listener.try_recv().unwrap(), PlanEvent::Ops(1));
        drop(listener);
        plans.notify(plan, PlanEvent::Ops(2));
        assert!(plans.events.lock().unwrap().is_empty());
        // A new listener gets a new channel and hears what comes next.
        let mut next = plans.subscribe(plan);
        plans.notify(plan, PlanEvent::Ops(3));
        assert_eq!(next.try_recv().unwrap(), PlanEvent::Ops(3));
    }
}
