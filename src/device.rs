//! The plan on this phone, without a screen: the operation log opened and replayed, and changes
//! authored, stored and applied. No Leptos here, so the first paint (`glance.rs`) can use it
//! before the full app has arrived and hand what it opened over to the app (`plans.rs`).

use std::rc::Rc;

use koers_core::{demo, Author, Edit, Entity, MemberId, NodeId, Op, OpId, Plan, PlanId, Refusal};
use koers_core::{Replica, Role};
use koers_store::{OpLog, StoreError};
use uuid::Uuid;

use crate::sync::{self, Session};

const DATABASE: &str = "koers";
/// The plans on this phone ([`Membership`]s), in the order they came.
pub const PLANS: &str = "plans";
/// The plan used last: it opens on start.
pub const CURRENT: &str = "current";
/// The professional signed in on this phone: their session token and account
/// (`professional::SignedIn`). Kept apart from the plans: signing out forgets only this, and
/// the plans (each with its own device token) stay.
pub const PROFESSIONAL: &str = "professional";
/// Before a phone could hold several plans: its one shared plan, its imported plan, and why the
/// server no longer let it sync. Read once and moved into [`PLANS`] and [`access_key`].
const OLD_SESSION: &str = "session";
const OLD_LOCAL_PLAN: &str = "local_plan";
const OLD_ACCESS: &str = "access";

/// The device fact holding why the server no longer lets this phone sync `plan` ([`Access`]).
pub fn access_key(plan: PlanId) -> String {
    format!("access:{plan}")
}

/// One plan on this phone: shared through the server (with this phone's membership), or kept
/// on the phone only (the example plan, an imported plan).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Membership {
    pub plan: PlanId,
    pub session: Option<Session>,
}

/// The server no longer lets this phone sync one of its shared plans. Stored, so that a reload
/// or a closed tab shows it again instead of forgetting the changes that could not be sent.
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

/// The device's log and one plan replayed from it.
pub struct Device {
    pub log: Rc<OpLog>,
    pub replica: Replica,
    pub node: NodeId,
}

/// What opening the device found: every plan on it, and the one to show replayed.
pub struct Opened {
    pub device: Device,
    pub plans: Vec<Membership>,
    /// This device's membership of the plan shown; `None` for the example or an imported plan.
    pub session: Option<Session>,
    /// Stored records this version could not read (kept, not deleted).
    pub unreadable: usize,
    /// The items of the plan shown with changes waiting for the server.
    pub pending: Vec<Entity>,
    /// The plan shown holds enough single records to be worth packing (`OpLog::compact`).
    pub unpacked: bool,
    /// The list of plans was made from the facts of a phone from before several plans: the app
    /// stores it ([`move_to_plans`]). Not here: the first paint's download stays small.
    pub moved: bool,
    /// Whether a plan was replayed: not for "Mijn gezinnen", which shows no plan (the replica is
    /// then empty, and the app opens a plan when one is chosen).
    pub replayed: bool,
}

/// Whether `/` opens "Mijn gezinnen" rather than a plan's home: with two or more plans besides
/// the example plan.
pub fn opens_on_caseload(plans: impl IntoIterator<Item = PlanId>) -> bool {
    plans.into_iter().filter(|p| *p != demo::PLAN).count() >= 2
}

/// The plan an address names (`/p/<plan>/…`), if any.
pub fn plan_in_address() -> Option<PlanId> {
    let path = web_sys::window()?.location().pathname().ok()?;
    crate::address::Address::parse(&path).plan
}

/// Opens the database and replays one plan: the one the address names, else the one used last,
/// else the first shared plan, else the example plan (seeded on first use).
pub async fn open() -> Result<Opened, StoreError> {
    mark("koers:open-start");
    let log = Rc::new(OpLog::open(DATABASE).await?);
    // Read in the transaction that is needed anyway: no extra cost at start.
    let [node, plans, current, old_session, old_local] = log
        .meta_texts(["node", PLANS, CURRENT, OLD_SESSION, OLD_LOCAL_PLAN])
        .await?;
    let node = match read(node) {
        Some(n) => NodeId(n),
        None => {
            let n = Uuid::new_v4().as_u64_pair().0;
            log.set_meta("node", &n).await?;
            NodeId(n)
        }
    };
    let (plans, moved) = match read::<Vec<Membership>>(plans) {
        Some(plans) => (plans, false),
        None => (old_plans(read(old_session), read(old_local)), true),
    };
    let wanted = plan_in_address().or(read(current));
    let shown = wanted
        .and_then(|p| plans.iter().find(|m| m.plan == p))
        .or_else(|| plans.iter().find(|m| m.session.is_some()))
        .or_else(|| plans.first())
        .cloned()
        .unwrap_or(Membership {
            plan: demo::PLAN,
            session: None,
        });
    // "Mijn gezinnen" needs no plan replayed (each row is stored on its own): a plan is replayed
    // when it is opened. A year plan takes a few hundred milliseconds on a phone.
    let here = crate::address::Address::current();
    let overview = here.plan.is_none()
        && (here.screen == crate::address::Screen::Caseload
            || (here.screen == crate::address::Screen::Home
                && opens_on_caseload(plans.iter().map(|m| m.plan))));
    if overview {
        return Ok(Opened {
            device: Device {
                log,
                replica: Replica::new(shown.plan),
                node,
            },
            plans,
            session: None,
            unreadable: 0,
            pending: Vec::new(),
            unpacked: false,
            moved,
            replayed: false,
        });
    }
    let replayed = replay(&log, shown.plan).await?;
    Ok(Opened {
        device: Device {
            log,
            replica: replayed.replica,
            node,
        },
        plans,
        // Only a shared plan has a server to wait for; the example or an imported plan never
        // syncs.
        pending: match shown.session {
            Some(_) => replayed.pending,
            None => Vec::new(),
        },
        session: shown.session,
        unreadable: replayed.unreadable,
        unpacked: replayed.unpacked,
        moved,
        replayed: true,
    })
}

/// One plan replayed from the log.
pub struct Replayed {
    pub replica: Replica,
    /// Records that could not be read (kept, not deleted).
    pub unreadable: usize,
    /// The items with changes not yet sent.
    pub pending: Vec<Entity>,
    /// Enough acknowledged operations are stored one by one to be worth packing.
    pub unpacked: bool,
}

/// Replays one plan from the log (the example plan is seeded the first time it is asked for).
pub async fn replay(log: &OpLog, plan: PlanId) -> Result<Replayed, StoreError> {
    let mut loaded = log.load(plan).await?;
    if loaded.ops.is_empty() && plan == demo::PLAN {
        let today = chrono::Local::now().date_naive();
        loaded.ops = demo::plan_ops(today);
        log.append_remote(&loaded.ops).await?;
    }
    let pending = sync::pending_items(loaded.ops.iter().filter(|o| loaded.pending.contains(&o.id)));
    Ok(Replayed {
        replica: Replica::from_ops(plan, &loaded.ops),
        unreadable: loaded.unreadable,
        pending,
        unpacked: loaded.unpacked >= koers_store::PACK_AT,
    })
}

/// A phone from before several plans: its shared plan, its imported plan and the example plan
/// become its list of plans; nothing of them is removed from the log.
fn old_plans(session: Option<Session>, local: Option<PlanId>) -> Vec<Membership> {
    let shared = session.map(|session| Membership {
        plan: session.plan,
        session: Some(session),
    });
    let local = local
        .into_iter()
        .chain([demo::PLAN])
        .map(|plan| Membership {
            plan,
            session: None,
        });
    shared.into_iter().chain(local).collect()
}

/// Stores the list of plans [`open`] made for a phone from before several plans, with what the
/// server said about its shared plan, and only then forgets the old facts (a closed tab before
/// that simply makes the list again).
pub async fn move_to_plans(log: &OpLog, plans: &[Membership]) -> Result<(), StoreError> {
    let access: Option<Access> = log.meta(OLD_ACCESS).await?;
    if let Some(access) = access.filter(|a| plans.iter().any(|m| m.plan == a.plan)) {
        log.set_meta(&access_key(access.plan), &access).await?;
    }
    log.set_meta(PLANS, &plans).await?;
    for key in [OLD_SESSION, OLD_LOCAL_PLAN, OLD_ACCESS] {
        log.delete_meta(key).await?;
    }
    Ok(())
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
pub async fn save(log: &OpLog, ops: &[Op]) -> Result<(), ChangeError> {
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
