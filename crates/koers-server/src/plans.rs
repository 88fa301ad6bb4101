//! The current state of each plan, kept in memory for authorization: its merged [`Replica`], the
//! [`Plan`] projected from it and its head (the seq of its newest operation). Loaded from the
//! database on first use, updated as operations are accepted. One lock per plan serialises this
//! instance's writers; the database's own lock on the plan serialises the instances (a write is
//! stored only on top of the head it was checked against, see [`catch_up`]). At most
//! [`LOADED_PLANS`] stay loaded: beyond that the least recently used idle plan is unloaded (the
//! database has all of it; it is read again on its next use).
//!
//! Also the per-plan broadcast channels that tell this instance's event-stream subscribers about
//! new operations and revoked devices, fed from the [`koers_database::Bus`] by [`Plans::relay`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use koers_core::{MemberId, Op, Plan, PlanId, Replica};
use koers_database::{Database, DatabaseError, DeviceId, Notice, Seq, Timestamp};
use tokio::sync::{broadcast, OwnedMutexGuard};

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
    DeviceRevoked(DeviceId),
    /// This member was taken out of the plan: the streams of all their devices end, whether or
    /// not a device row was revoked.
    MemberRemoved(MemberId),
    /// Notices may have been lost (the bus reconnected or fell behind): check the plan's head
    /// and the device's access again.
    Resync,
}

/// A plan as the server knows it.
#[derive(Debug, Clone)]
pub struct PlanState {
    pub replica: Replica,
    pub plan: Plan,
    /// The seq of the newest operation the replica holds: the plan's head as this instance
    /// last saw it.
    pub last_seq: Seq,
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
    /// The newest head the bus told of, per plan: a loaded plan behind it catches up when it is
    /// next locked (another instance wrote to it).
    heads: Mutex<HashMap<PlanId, Seq>>,
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
    /// A write is under way: the in-memory state may be ahead of the database.
    writing: bool,
}

impl LockedPlan {
    pub fn state(&mut self) -> &mut PlanState {
        self.guard.as_mut().expect("a locked plan is loaded")
    }

    /// Marks the start of a write that changes the in-memory state before the database commits.
    /// Dropped before [`LockedPlan::write_done`] — the request was cancelled (the client hung
    /// up, or it timed out) while the database committed, or not — the state is forgotten and read
    /// again from the database on its next use, rather than kept with a batch that may not be
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

    /// Reads the plan up to the database's head if another instance stored something the bus
    /// has not told of yet; true if it did. Asked before a refusal (a member unknown, a change
    /// not allowed): a refusal must come from the plan as it is, not as this instance last saw
    /// it. (An acceptance needs no such check: the write itself is refused on an old head.)
    pub async fn read_up_to_head(&mut self, db: &dyn Database) -> Result<bool, DatabaseError> {
        let state = self.state();
        let head = db.head(state.replica.plan_id()).await?;
        if head <= state.last_seq {
            return Ok(false);
        }
        catch_up(db, state).await?;
        Ok(true)
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
            heads: Mutex::default(),
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

    /// Locks a plan, loading it from the database if it is not in memory, or catching up with
    /// what another instance stored if the bus told of a newer head.
    pub async fn lock(&self, db: &dyn Database, id: PlanId) -> Result<LockedPlan, DatabaseError> {
        let mut guard = self.slot(id).lock_owned().await;
        match guard.as_mut() {
            None => {
                *guard = Some(load(db, id).await?);
                self.evict();
            }
            Some(state) => {
                let told = self
                    .heads
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(&id)
                    .copied();
                if told.is_some_and(|head| head > state.last_seq) {
                    catch_up(db, state).await?;
                }
            }
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

    /// Hands a notice from the bus to this instance's subscribers of its plan (all of them for
    /// [`Notice::Resync`]).
    pub fn relay(&self, notice: Notice) {
        let (plan, event) = match notice {
            Notice::Ops { plan, head } => {
                let mut heads = self.heads.lock().unwrap_or_else(PoisonError::into_inner);
                let known = heads.entry(plan).or_default();
                *known = (*known).max(head);
                (plan, PlanEvent::Ops(head))
            }
            Notice::DeviceRevoked { plan, device } => (plan, PlanEvent::DeviceRevoked(device)),
            Notice::MemberRemoved { plan, member } => (plan, PlanEvent::MemberRemoved(member)),
            Notice::Resync => {
                // The heads told before may be stale or missing: every loaded plan checks its
                // head when next written (the database refuses a write on an old head anyway).
                let plans: Vec<PlanId> = {
                    let events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
                    events.keys().copied().collect()
                };
                self.heads
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clear();
                for plan in plans {
                    self.notify(plan, PlanEvent::Resync);
                }
                return;
            }
        };
        self.notify(plan, event);
    }

    /// Tells this instance's subscribers of a plan something.
    fn notify(&self, id: PlanId, event: PlanEvent) {
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
async fn load(db: &dyn Database, id: PlanId) -> Result<PlanState, DatabaseError> {
    let mut replica = Replica::new(id);
    let last_seq = apply_after(db, &mut replica, 0, None).await?;
    Ok(PlanState::new(replica, last_seq))
}

/// Brings a loaded plan up to the database's head: the operations another instance stored since
/// this one last saw the plan. Called when the bus told of a newer head, before a push on a
/// database other instances share, and before a refusal. Derives only the entities those
/// operations changed ([`Plan::refresh`]) and counts them against the limits as they are.
pub async fn catch_up(db: &dyn Database, state: &mut PlanState) -> Result<(), DatabaseError> {
    let mut caught = Vec::new();
    let head = apply_after(db, &mut state.replica, state.last_seq, Some(&mut caught)).await?;
    if head != state.last_seq {
        state.last_seq = head;
        let changed = koers_core::op::entities_of(caught.iter().map(|(op, _)| op));
        state.plan.refresh(&state.replica, changed);
        crate::limits::count_caught_up(state, caught.iter().map(|(op, at)| (op, *at)));
    }
    Ok(())
}

/// Applies the operations after `after` to `replica`, page by page; the seq of the last one.
/// Those new to the replica are kept in `caught`, with when the database received them.
async fn apply_after(
    db: &dyn Database,
    replica: &mut Replica,
    mut after: Seq,
    mut caught: Option<&mut Vec<(Op, Timestamp)>>,
) -> Result<Seq, DatabaseError> {
    let id = replica.plan_id();
    loop {
        let page = db.ops_page(id, after, LOAD_PAGE).await?;
        let Some(last) = page.ops.last() else {
            return Ok(after);
        };
        after = last.seq;
        for stored in page.ops {
            match serde_json::from_str::<Op>(&stored.body) {
                Ok(op) => {
                    let new = matches!(replica.apply(&op), Ok(koers_core::replica::Applied::New));
                    if let (true, Some(caught)) = (new, caught.as_deref_mut()) {
                        caught.push((op, stored.received_at));
                    }
                }
                Err(err) => {
                    tracing::warn!(plan = %id, seq = stored.seq, error = %err, "stored op does not parse; skipped")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use koers_core::founding::{plan_ops, NewPlan};
    use koers_core::{Clock, NodeId, Role};
    use koers_core::{Entity, Field};
    use koers_database::{Append, Notice};
    use koers_database_sqlite::SqliteDatabase;
    use serde_json::json;

    /// Stores a new plan for a child named `child` and returns its id.
    async fn stored_plan(db: &SqliteDatabase, child: &str) -> PlanId {
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
            .map(|op| koers_database::NewOp {
                id: op.id,
                author: op.author,
                body: serde_json::to_string(op).unwrap(),
            })
            .collect();
        let founder = koers_database::contract::device(plan, ops[0].author, Role::FosterCareWorker);
        db.create_plan(plan, &rows, &founder, None, koers_database::now())
            .await
            .unwrap();
        plan
    }

    #[tokio::test]
    async fn beyond_its_capacity_the_least_recently_used_plan_is_unloaded_and_comes_back_whole() {
        let db = SqliteDatabase::open_in_memory().unwrap();
        let plans = Plans::with_capacity(2);
        let (noa, sam, ella) = (
            stored_plan(&db, "Noa").await,
            stored_plan(&db, "Sam").await,
            stored_plan(&db, "Ella").await,
        );
        for id in [noa, sam, noa, ella] {
            drop(plans.lock(&db, id).await.unwrap());
        }
        // Sam was used least recently: unloaded. Noa and Ella stay.
        assert_eq!(plans.loaded(), 2);
        assert!(!plans.slots.lock().unwrap().by_plan.contains_key(&sam));
        let mut again = plans.lock(&db, sam).await.unwrap();
        assert_eq!(again.state().plan.child_name, "Sam");
        assert_eq!(again.state().plan.members.len(), 2);
        assert_eq!(again.state().last_seq, db.head(sam).await.unwrap());
    }

    #[tokio::test]
    async fn a_write_dropped_half_way_leaves_no_state_ahead_of_the_store() {
        let db = SqliteDatabase::open_in_memory().unwrap();
        let plans = Plans::default();
        let noa = stored_plan(&db, "Noa").await;
        let stored = db.head(noa).await.unwrap();
        {
            // A push cancelled (client gone, timeout) after changing the plan in memory.
            let mut locked = plans.lock(&db, noa).await.unwrap();
            locked.begin_write();
            locked.state().last_seq = stored + 10;
            locked.state().plan.child_name = "not stored".into();
        }
        let mut again = plans.lock(&db, noa).await.unwrap();
        assert_eq!(again.state().last_seq, stored);
        assert_eq!(again.state().plan.child_name, "Noa");
        // A write that finished keeps its state.
        again.begin_write();
        again.state().last_seq = stored + 1;
        again.write_done();
        drop(again);
        assert_eq!(
            plans.lock(&db, noa).await.unwrap().state().last_seq,
            stored + 1
        );
    }

    #[tokio::test]
    async fn a_plan_in_use_is_never_unloaded() {
        let db = SqliteDatabase::open_in_memory().unwrap();
        let plans = Plans::with_capacity(1);
        let (noa, sam) = (stored_plan(&db, "Noa").await, stored_plan(&db, "Sam").await);
        let mut held = plans.lock(&db, noa).await.unwrap();
        drop(plans.lock(&db, sam).await.unwrap());
        // Noa is held, so Sam went instead; what the holder changes is not lost to a reload.
        held.state().last_seq = 999;
        drop(held);
        assert_eq!(plans.lock(&db, noa).await.unwrap().state().last_seq, 999);
    }

    #[tokio::test]
    async fn a_plan_nobody_follows_keeps_no_event_channel() {
        let plans = Plans::default();
        let plan = PlanId(uuid::Uuid::new_v4());
        let ops = |head| Notice::Ops { plan, head };
        let mut listener = plans.subscribe(plan);
        plans.relay(ops(1));
        assert_eq!(listener.try_recv().unwrap(), PlanEvent::Ops(1));
        drop(listener);
        plans.relay(ops(2));
        assert!(plans.events.lock().unwrap().is_empty());
        // A new listener gets a new channel and hears what comes next.
        let mut next = plans.subscribe(plan);
        plans.relay(ops(3));
        assert_eq!(next.try_recv().unwrap(), PlanEvent::Ops(3));
        // After a reconnect of the bus every stream is told to check its plan again.
        plans.relay(Notice::Resync);
        assert_eq!(next.try_recv().unwrap(), PlanEvent::Resync);
    }

    /// An operation of `author` at the `n`th millisecond after the founding.
    fn op(
        plan: PlanId,
        author: MemberId,
        n: u64,
        entity: Entity,
        field: Field,
        value: serde_json::Value,
    ) -> Op {
        Op {
            id: koers_core::OpId(uuid::Uuid::new_v4()),
            plan,
            author,
            hlc: koers_core::Hlc {
                millis: 1_767_600_100_000 + n,
                counter: 0,
                node: NodeId(8),
            },
            entity,
            field,
            value,
            supersedes: None,
        }
    }

    /// Stores `ops` on top of `head`, as another instance would; the new head.
    async fn store_after(db: &SqliteDatabase, head: Seq, ops: &[Op]) -> Seq {
        let bodies: Vec<_> = ops
            .iter()
            .map(|op| koers_database::NewOp {
                id: op.id,
                author: op.author,
                body: serde_json::to_string(op).unwrap(),
            })
            .collect();
        let append = Append {
            plan: ops[0].plan,
            after_head: head,
            ops: &bodies,
            shut_out: &[],
            memberships: &[],
            access: None,
            now: koers_database::now(),
        };
        db.append_ops(append).await.unwrap().head
    }

    /// Two instances on one database: what one stores, the other's loaded plan takes in when
    /// the bus tells of the newer head (or, without a notice, when a write on its old head is
    /// refused by the database: see `catch_up`).
    #[tokio::test]
    async fn a_loaded_plan_catches_up_with_what_another_instance_stored() {
        let db = SqliteDatabase::open_in_memory().unwrap();
        let noa = stored_plan(&db, "Noa").await;
        let (here, there) = (Plans::default(), Plans::default());
        let founded = here.lock(&db, noa).await.unwrap().state().last_seq;
        drop(there.lock(&db, noa).await.unwrap());
        // "There" renames the child, as a push through another instance would.
        let (rename, head) = {
            let mut locked = there.lock(&db, noa).await.unwrap();
            let worker = locked.state().plan.members[0].id;
            let rename = op(
                noa,
                worker,
                1,
                Entity::Plan,
                Field::ChildName,
                json!("Noa Bakker"),
            );
            let head = store_after(&db, founded, std::slice::from_ref(&rename)).await;
            (rename, head)
        };
        assert_eq!(head, founded + 1);
        // Without a notice "here" still holds the plan as it loaded it.
        let mut stale = here.lock(&db, noa).await.unwrap();
        assert_eq!(stale.state().plan.child_name, "Noa");
        drop(stale);
        here.relay(Notice::Ops { plan: noa, head });
        let mut fresh = here.lock(&db, noa).await.unwrap();
        assert_eq!(fresh.state().last_seq, head);
        assert_eq!(fresh.state().plan.child_name, "Noa Bakker");
        assert!(fresh.state().replica.contains(rename.id));
    }

    /// A plan caught up with another instance's operations is the plan a fresh load gives: the
    /// same derived plan (only the entities they changed were derived again) and the same
    /// counts against the limits (counted from the operations, not asked of the database).
    #[tokio::test]
    async fn a_plan_caught_up_is_the_plan_loaded_afresh_limits_included() {
        let db = SqliteDatabase::open_in_memory().unwrap();
        let noa = stored_plan(&db, "Noa").await;
        let limits = crate::limits::Limits::new(Default::default());
        let here = Plans::default();
        let mut held = here.lock(&db, noa).await.unwrap();
        let (worker, parent) = {
            let members = &held.state().plan.members;
            (members[0].id, members[1].id)
        };
        limits
            .check_push(&db, held.state(), worker, &[])
            .await
            .unwrap();
        let goal = Entity::Goal(koers_core::GoalId(uuid::Uuid::new_v4()));
        let theirs = [
            op(
                noa,
                worker,
                1,
                goal,
                Field::Title,
                json!("Elke week bellen"),
            ),
            op(noa, worker, 2, goal, Field::Owner, json!("parent")),
            op(noa, parent, 3, goal, Field::Status, json!("done")),
            op(
                noa,
                worker,
                4,
                Entity::Plan,
                Field::ChildName,
                json!("Noa B."),
            ),
        ];
        store_after(&db, held.state().last_seq, &theirs).await;
        catch_up(&db, held.state()).await.unwrap();

        let afresh = Plans::default();
        let mut loaded = afresh.lock(&db, noa).await.unwrap();
        limits
            .check_push(&db, loaded.state(), worker, &[])
            .await
            .unwrap();
        assert_eq!(held.state().last_seq, loaded.state().last_seq);
        assert_eq!(held.state().plan, loaded.state().plan);
        assert_eq!(held.state().usage, loaded.state().usage);
        assert_eq!(held.state().plan.child_name, "Noa B.");
    }
}
