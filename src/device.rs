//! The plan on this phone, without a screen: the operation log opened and replayed, and changes
//! authored, stored and applied. No Leptos here, so the first paint (`glance.rs`) can use it
//! before the full app has arrived and hand what it opened over to the app's store.

use std::rc::Rc;

use koers_core::{demo, Author, Edit, Entity, MemberId, NodeId, Op, OpId, Plan, PlanId, Refusal};
use koers_core::{Replica, Role};
use koers_store::{OpLog, StoreError};
use uuid::Uuid;

use crate::sync::{self, Session};

const DATABASE: &str = "koers";
pub const SESSION: &str = "session";
/// The plan this phone keeps on its own (imported), when it has not joined a shared one.
pub const LOCAL_PLAN: &str = "local_plan";
/// Why this phone cannot sync its shared plan ([`Access`]), kept until that changes.
pub const ACCESS: &str = "access";

/// The server no longer lets this phone sync its shared plan. Stored, so that a reload or a
/// closed tab shows it again instead of forgetting the changes that could not be sent.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Access {
    pub plan: PlanId,
    pub problem: AccessProblem,
}

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessProblem {
    /// The server does not know this phone's token (say, its database was restored from a
    /// backup): everything stays, rounds go on, and the phone must be invited again.
    Unknown,
    /// The phone, or its member, was removed from the plan: it stops syncing, and the plan
    /// leaves the phone once the user has seen what could not be sent (and could save it).
    Revoked,
}

/// Why a change did not go through; the screens turn it into a sentence.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeError {
    /// This device has no member with the chosen role in the plan.
    NoMember,
    Refused(Refusal),
    Storage(StoreError),
    NotLoaded,
}

/// The device's log and the plan replayed from it.
pub struct Device {
    pub log: Rc<OpLog>,
    pub replica: Replica,
    pub node: NodeId,
}

/// What opening the device found.
pub struct Opened {
    pub device: Device,
    /// This device's membership of a shared plan; `None` while it shows the example plan.
    pub session: Option<Session>,
    /// Stored records this version could not read (kept, not deleted).
    pub unreadable: usize,
    /// The items with changes waiting for the server (none without a shared plan).
    pub pending: Vec<Entity>,
    /// The server no longer lets this phone sync its shared plan.
    pub access: Option<Access>,
}

/// Opens the database and replays the device's plan: the shared plan it joined, else its
/// imported plan, else the example plan (seeded on first use).
pub async fn open() -> Result<Opened, StoreError> {
    mark("koers:open-start");
    let log = Rc::new(OpLog::open(DATABASE).await?);
    // Read in the transaction that is needed anyway: no extra cost at start.
    let [node, session, local_plan, access] = log
        .meta_texts(["node", SESSION, LOCAL_PLAN, ACCESS])
        .await?;
    let node = match read(node) {
        Some(n) => NodeId(n),
        None => {
            let n = Uuid::new_v4().as_u64_pair().0;
            log.set_meta("node", &n).await?;
            NodeId(n)
        }
    };
    let session: Option<Session> = read(session);
    let plan: PlanId = match &session {
        Some(s) => s.plan,
        None => read(local_plan).unwrap_or(demo::PLAN),
    };
    let mut loaded = log.load(plan).await?;
    if loaded.ops.is_empty() && plan == demo::PLAN {
        let today = chrono::Local::now().date_naive();
        loaded.ops = demo::plan_ops(today);
        log.append_remote(&loaded.ops).await?;
    }
    if loaded.unpacked >= koers_store::PACK_AT {
        // Packing the single records makes the next opening faster; it runs after this one,
        // and a failed pack changes nothing.
        let log = log.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let _ = log.compact(plan, koers_store::PACK_AT).await;
        });
    }
    let replica = Replica::from_ops(plan, &loaded.ops);
    // Only a shared plan has a server to wait for; the example or an imported plan never syncs.
    let pending = match session {
        Some(_) => {
            sync::pending_items(loaded.ops.iter().filter(|o| loaded.pending.contains(&o.id)))
        }
        None => Vec::new(),
    };
    // Only about the shared plan it was stored for.
    let access =
        read::<Access>(access).filter(|a| session.as_ref().is_some_and(|s| s.plan == a.plan));
    Ok(Opened {
        device: Device { log, replica, node },
        session,
        unreadable: loaded.unreadable,
        pending,
        access,
    })
}

/// Who acts on this phone: the invited member in a shared plan, else the example (or imported)
/// plan's member with the chosen role.
pub fn member(session: Option<&Session>, plan: &Plan, role: Role) -> Option<MemberId> {
    match session {
        Some(session) => Some(session.member),
        None => plan.members.iter().find(|m| m.role == role).map(|m| m.id),
    }
}

impl Device {
    /// The operations for `edits` by `member`, checked by the core's permission rules; nothing
    /// is stored yet.
    pub fn author(
        &self,
        plan: &Plan,
        member: MemberId,
        edits: Vec<Edit>,
    ) -> Result<Vec<Op>, Refusal> {
        let now = js_sys::Date::now() as u64;
        let mut author = Author::new(member, self.node);
        edits
            .into_iter()
            .map(|e| author.change(&self.replica, plan, OpId(Uuid::new_v4()), now, e))
            .collect()
    }

    /// Folds stored operations into the replica.
    pub fn apply(&mut self, ops: &[Op]) {
        for op in ops {
            let _ = self.replica.apply(op);
        }
    }
}

/// Stores authored operations durably (the log is shared, so no borrow of the device is held
/// while the browser writes).
pub async fn store(log: &OpLog, ops: &[Op]) -> Result<(), ChangeError> {
    log.append_local(ops).await.map_err(ChangeError::Storage)?;
    mark("koers:change-stored");
    Ok(())
}

/// A device fact read by `OpLog::meta_texts`; unreadable counts as absent, as in `OpLog::meta`.
fn read<T: serde::de::DeserializeOwned>(text: Option<String>) -> Option<T> {
    text.and_then(|t| serde_json::from_str(&t).ok())
}

/// A User Timing mark, read by the benchmarks (bench/) to time loading and saving.
pub fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
}

/// Waits `millis` without blocking the page.
pub async fn pause(millis: i32) {
    let wait = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, millis);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(wait).await;
}
