//! The plans on this phone: the operation log (IndexedDB), with the plan shown folded into a
//! replica and exposed to the screens as signals, and every plan's overview row. Every change is
//! authored, checked, stored, and only then shown; the shared plans are synced in the background,
//! all of them in one request per round (see `sync.rs`) and over one event stream.

use std::rc::Rc;
use std::time::Duration;

use koers_core::caseload::{self, PlanSummary};
use koers_core::op::entities_of;
use koers_core::{history, Edit, Entity, MemberId, NodeId, Op, OpId, Plan, PlanId, Replica, Role};
use koers_store::{OpLog, StoreError};
use leptos::ev;
use leptos::prelude::*;
use uuid::Uuid;

pub use crate::device::ChangeError;
use crate::device::{self, Device, Membership, Opened};
pub use crate::device::{Access, AccessProblem};
use crate::i18n::*;
pub use crate::notice::Notice;
use crate::sync::{self, Session, SyncError, Wanted};

/// A round also runs this often while the app is open, besides on start, on reconnect and
/// after each change.
const SYNC_EVERY: Duration = Duration::from_secs(15);

/// Why an import did not go through.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportFailure {
    Invalid(koers_core::ImportError),
    /// This phone has joined a shared plan, which an import would hide.
    SharedPlan,
    Storage(StoreError),
}

/// Why wiping the phone did not go through.
#[derive(Debug, Clone, PartialEq)]
pub enum WipeError {
    /// The server could not be reached to sign this phone out of its shared plan.
    NotSignedOut,
    Storage(StoreError),
}

#[derive(Clone, Debug, PartialEq)]
pub enum LoadState {
    Loading,
    Ready,
    Failed(StoreError),
}

/// What every screen shows about syncing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SyncStatus {
    pub online: bool,
    /// The items (a goal, a visit, …) with changes the server has not acknowledged yet.
    pub pending: Vec<Entity>,
    /// When the last round finished (ms since the epoch).
    pub last_synced: Option<f64>,
}

/// One plan on this phone as the overview ("Mijn gezinnen") and the switcher show it.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanEntry {
    pub membership: Membership,
    /// Kept in IndexedDB and updated when the plan changes, so that the overview never replays
    /// twenty logs; `None` until it has been made (the plan was never opened in this version).
    pub overview: Option<Overview>,
    /// The server no longer lets this phone sync the plan.
    pub access: Option<AccessProblem>,
}

/// What the overview shows of a plan without replaying it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Overview {
    pub summary: PlanSummary,
    /// Items with changes waiting for the server.
    pub pending: usize,
    /// Changes others made since this phone last showed the plan.
    pub unseen: usize,
}

/// The device fact holding a plan's [`Overview`].
fn overview_key(plan: PlanId) -> String {
    format!("overview:{plan}")
}

/// How many plans besides the one shown stay in memory once opened, so that switching back to
/// one shows it without reading and replaying its log. A year's plan holds a few MiB here:
/// twenty of them would be too much for a phone.
const KEPT_OPEN: usize = 3;

/// A plan as this phone shows it: its replica and what is derived from it, and this phone's
/// membership and waiting changes. The plan shown is spread over [`Plans`]' signals, which the
/// screens read; plans opened before wait in [`Plans::kept`], kept up to date by the rounds.
struct OpenPlan {
    replica: Replica,
    derived: Plan,
    session: Option<Session>,
    pending: Vec<Entity>,
    /// See [`Plans::received_late`].
    backdated: Vec<(OpId, u64)>,
    unreadable: usize,
}

impl OpenPlan {
    fn apply(&mut self, ops: &[Op]) {
        for op in ops {
            let _ = self.replica.apply(op);
        }
        self.derived.refresh(&self.replica, entities_of(ops));
    }
}

/// Which rounds are running or asked for.
#[derive(Default)]
struct Rounds {
    running: bool,
    /// Plans whose round was asked for meanwhile; `all` for every shared plan.
    asked: Vec<PlanId>,
    all: bool,
    /// Events heard while a round ran: plan and seq, weighed against the cursor once it is done.
    heard: Vec<(PlanId, i64)>,
}

/// Signals for the screens plus the non-reactive device state behind them.
#[derive(Clone, Copy)]
pub struct Plans {
    device: StoredValue<Option<Device>, LocalStorage>,
    pub plan: RwSignal<Option<Plan>>,
    /// The plan as screens read it (see [`Plans::shown`]).
    shown: Memo<Plan>,
    pub state: RwSignal<LoadState>,
    /// Stored records this version could not read (kept, not deleted).
    pub unreadable: RwSignal<usize>,
    /// A sentence about the last change ("saved", or what went wrong and what to do).
    pub notice: RwSignal<Option<Notice>>,
    /// This device's membership of a shared plan; `None` while it shows the example plan.
    pub session: RwSignal<Option<Session>>,
    pub sync: RwSignal<SyncStatus>,
    /// The server no longer lets this phone sync its shared plan (kept across reloads).
    pub access: RwSignal<Option<Access>>,
    /// Changes the server received more than a day after they were written, and when.
    backdated: RwSignal<Vec<(OpId, u64)>>,
    /// Every plan on this phone, in the order they came.
    pub entries: RwSignal<Vec<PlanEntry>>,
    /// The plan that was shown when it left the phone: its address now opens the plan shown
    /// instead (see the shell).
    pub left: RwSignal<Option<PlanId>>,
    round: StoredValue<Rounds>,
    /// Plans opened before and not shown now, the one shown last first (see [`KEPT_OPEN`]).
    kept: StoredValue<Vec<OpenPlan>, LocalStorage>,
    /// Plans the user is taking off this phone: no round or event about them may act meanwhile
    /// (the server's answer to the sign-out would say "revoked").
    leaving: StoredValue<Vec<PlanId>>,
    /// How many changes this phone made in each plan: a round that finds the count moved on
    /// since it started knows a change was made meanwhile, which it did not send.
    edits: StoredValue<Vec<(PlanId, u64)>>,
    /// Where each shared plan was pulled up to: an event about what this phone already has
    /// starts no round.
    cursors: StoredValue<Vec<(PlanId, i64)>>,
    /// The server's one event stream for all shared plans: a round runs for a plan others
    /// changed.
    events: StoredValue<Option<Listener>, LocalStorage>,
    i18n: leptos_i18n::I18nContext<Locale>,
}

struct Listener {
    source: web_sys::EventSource,
    _on_ops: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::Event)>,
    _on_closed: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::Event)>,
    _on_error: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::Event)>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.source.close();
    }
}

/// The plans on this phone, as the shell provides them to every screen.
pub fn use_plans() -> Plans {
    expect_context()
}

impl Plans {
    /// The plans for what the device opened (see [`device::open`]), shown at once; then
    /// syncing starts.
    pub fn new(opened: Result<Opened, StoreError>) -> Plans {
        let plan = RwSignal::new(None::<Plan>);
        // One copy per change, shared by every screen, rather than one per read.
        let shown = Memo::new(move |_| {
            plan.with(|p| {
                p.clone()
                    .unwrap_or_else(|| Plan::from_replica(&Replica::new(PlanId(Uuid::nil()))))
            })
        });
        let plans = Plans {
            device: StoredValue::new_local(None),
            plan,
            shown,
            state: RwSignal::new(LoadState::Loading),
            unreadable: RwSignal::new(0),
            notice: RwSignal::new(None),
            session: RwSignal::new(None),
            sync: RwSignal::new(SyncStatus {
                online: window().navigator().on_line(),
                ..Default::default()
            }),
            access: RwSignal::new(None),
            backdated: RwSignal::new(Vec::new()),
            entries: RwSignal::new(Vec::new()),
            left: RwSignal::new(None),
            kept: StoredValue::new_local(Vec::new()),
            round: StoredValue::new(Rounds::default()),
            edits: StoredValue::new(Vec::new()),
            leaving: StoredValue::new(Vec::new()),
            cursors: StoredValue::new(Vec::new()),
            events: StoredValue::new_local(None),
            i18n: use_i18n(),
        };
        match opened {
            Ok(opened) => {
                let memberships = opened.plans.clone();
                let (moved, unpacked) = (opened.moved, opened.unpacked);
                // The list at once (the shell tells addresses of other plans by it); the rows'
                // overviews follow from IndexedDB.
                plans.entries.set(
                    memberships
                        .iter()
                        .map(|membership| PlanEntry {
                            membership: membership.clone(),
                            overview: None,
                            access: None,
                        })
                        .collect(),
                );
                plans.adopt(opened);
                plans.state.set(LoadState::Ready);
                device::mark("koers:plan-shown");
                leptos::task::spawn_local(async move {
                    if let Some(log) = plans.log() {
                        if moved {
                            let _ = device::move_to_plans(&log, &memberships).await;
                        }
                        if let (true, Some(plan)) = (unpacked, plans.shown_plan()) {
                            plans.pack(&log, plan);
                        }
                    }
                    plans.load_plans(memberships).await;
                    plans.listen();
                    plans.sync_now();
                });
            }
            Err(e) => plans.state.set(LoadState::Failed(e)),
        }
        let online = window_event_listener(ev::online, move |_| {
            plans.sync.update(|s| s.online = true);
            plans.sync_now();
        });
        let offline = window_event_listener(ev::offline, move |_| {
            plans.sync.update(|s| s.online = false)
        });
        let timer = set_interval_with_handle(move || plans.sync_now(), SYNC_EVERY).ok();
        on_cleanup(move || {
            online.remove();
            offline.remove();
            if let Some(t) = timer {
                t.clear();
            }
        });
        plans
    }

    /// Takes over what the device opened: its plan, replica, session and waiting changes.
    fn adopt(self, opened: Opened) {
        if opened.replayed {
            self.plan
                .set(Some(Plan::from_replica(&opened.device.replica)));
        }
        self.backdated.set(Vec::new());
        if let Some(session) = &opened.session {
            // Only history shows them: read after the plan is on screen.
            let (log, plan) = (opened.device.log.clone(), session.plan);
            leptos::task::spawn_local(async move { self.load_backdated(&log, plan).await });
        }
        self.unreadable.set(opened.unreadable);
        self.device.set_value(Some(opened.device));
        self.sync.update(|s| s.pending = opened.pending);
        self.session.set(opened.session);
    }

    /// Reads every plan's overview row, its cursor and what the server said about it, then makes
    /// the rows that are missing or from an older version, one plan at a time.
    async fn load_plans(self, plans: Vec<Membership>) {
        let Some(log) = self.log() else { return };
        let keys: Vec<String> = plans
            .iter()
            .flat_map(|m| {
                [
                    overview_key(m.plan),
                    device::access_key(m.plan),
                    sync::cursor_key(m.plan),
                ]
            })
            .collect();
        let texts = log.meta_many(&keys).await.unwrap_or_default();
        let read = |i: usize| texts.get(i).cloned().flatten();
        let mut cursors = Vec::new();
        let mut found = Vec::with_capacity(plans.len());
        for (i, membership) in plans.into_iter().enumerate() {
            let overview = read(3 * i)
                .and_then(|t| serde_json::from_str::<Overview>(&t).ok())
                .filter(|o| o.summary.is_current());
            let access = read(3 * i + 1)
                .and_then(|t| serde_json::from_str::<Access>(&t).ok())
                .map(|a| a.problem);
            if let Some(cursor) = read(3 * i + 2).and_then(|t| t.parse().ok()) {
                cursors.push((membership.plan, cursor));
            }
            found.push((membership, overview, access));
        }
        // Into the list as it is now, not in its place: a plan joined (or left) meanwhile stays
        // as that left it, and a plan's newer facts are kept.
        self.cursors.update_value(|known| {
            for (plan, seq) in cursors {
                if !known.iter().any(|(p, _)| *p == plan) {
                    known.push((plan, seq));
                }
            }
        });
        self.entries.update(|entries| {
            for entry in entries.iter_mut() {
                let Some((_, overview, access)) =
                    found.iter().find(|(m, ..)| *m == entry.membership)
                else {
                    continue;
                };
                if entry.overview.is_none() {
                    entry.overview = overview.clone();
                }
                if entry.access.is_none() {
                    entry.access = *access;
                }
            }
        });
        if let Some(shown) = self.shown_plan() {
            let problem = self
                .access_of(shown)
                .filter(|_| self.session.with_untracked(Option::is_some));
            self.access.set(problem.map(|problem| Access {
                plan: shown,
                problem,
            }));
        }
        let missing: Vec<PlanId> = self.entries.with_untracked(|entries| {
            entries
                .iter()
                .filter(|e| e.overview.is_none())
                .map(|e| e.membership.plan)
                .collect()
        });
        self.note_shown();
        for plan in missing {
            self.refresh_overview(plan, 0).await;
        }
    }

    /// The plan shown, as the overview shows it: made from the derived plan (no replay).
    pub fn note_shown(self) {
        let Some(plan) = self.plan.with_untracked(|p| p.as_ref().map(|p| p.id)) else {
            return;
        };
        let summary = self.plan.with_untracked(|p| {
            p.as_ref().map(|p| {
                let session = self.session.get_untracked();
                caseload::summarize(p, member_of(session.as_ref(), p))
            })
        });
        let Some(summary) = summary else { return };
        let pending = self.sync.with_untracked(|s| s.pending.len());
        self.store_overview(
            plan,
            Overview {
                summary,
                pending,
                unseen: 0,
            },
        );
    }

    /// Makes a plan's overview row anew from its log (after others changed it, or when it was
    /// missing), adding `unseen` changes of others.
    async fn refresh_overview(self, plan: PlanId, unseen: usize) {
        if self.shown_plan() == Some(plan) {
            return self.note_shown();
        }
        // A plan kept open needs no replay.
        let kept = self.kept.with_value(|kept| {
            let k = kept.iter().find(|k| k.derived.id == plan)?;
            let member = member_of(k.session.as_ref(), &k.derived);
            Some((caseload::summarize(&k.derived, member), k.pending.len()))
        });
        let (summary, pending) = match kept {
            Some(kept) => kept,
            None => {
                let Some(log) = self.log() else { return };
                let Ok(replayed) = device::replay(&log, plan).await else {
                    return;
                };
                let session = self.membership(plan).and_then(|m| m.session);
                let derived = Plan::from_replica(&replayed.replica);
                let member = member_of(session.as_ref(), &derived);
                (
                    caseload::summarize(&derived, member),
                    replayed.pending.len(),
                )
            }
        };
        let before = self.overview(plan).map_or(0, |o| o.unseen);
        self.store_overview(
            plan,
            Overview {
                summary,
                pending,
                unseen: before + unseen,
            },
        );
    }

    fn store_overview(self, plan: PlanId, overview: Overview) {
        let changed = self.entries.try_update(|plans| {
            let entry = plans.iter_mut().find(|e| e.membership.plan == plan)?;
            if entry.overview.as_ref() == Some(&overview) {
                return None;
            }
            entry.overview = Some(overview.clone());
            Some(())
        });
        if changed.flatten().is_some() {
            if let Some(log) = self.log() {
                leptos::task::spawn_local(async move {
                    let _ = log.set_meta(&overview_key(plan), &overview).await;
                });
            }
        }
    }

    fn overview(self, plan: PlanId) -> Option<Overview> {
        self.entries.with_untracked(|plans| {
            plans
                .iter()
                .find(|e| e.membership.plan == plan)
                .and_then(|e| e.overview.clone())
        })
    }

    fn membership(self, plan: PlanId) -> Option<Membership> {
        self.entries.with_untracked(|plans| {
            plans
                .iter()
                .find(|e| e.membership.plan == plan)
                .map(|e| e.membership.clone())
        })
    }

    /// Packs the single records of `plan` (`OpLog::compact`) after this task: the next opening
    /// is faster, and a failed pack changes nothing.
    fn pack(self, log: &Rc<OpLog>, plan: PlanId) {
        let log = log.clone();
        leptos::task::spawn_local(async move {
            let _ = log.compact(plan, koers_store::PACK_AT).await;
        });
    }

    /// The id of the plan shown.
    pub fn shown_plan(self) -> Option<PlanId> {
        self.plan.with_untracked(|p| p.as_ref().map(|p| p.id))
    }

    /// The plan as a screen reads it; screens are drawn only once it has loaded.
    pub fn shown(self) -> Signal<Plan> {
        self.shown.into()
    }

    /// Who acts on this phone (see [`device::member`]).
    pub fn member(self, role: Role) -> Option<MemberId> {
        let session = self.session.get_untracked();
        self.plan
            .with_untracked(|p| device::member(session.as_ref(), p.as_ref()?, role))
    }

    /// When the server received the change `op`, if that was more than a day after it was
    /// written (ms since the epoch); follows new rounds.
    pub fn received_late(self, op: OpId) -> Option<u64> {
        self.backdated.with(|b| {
            b.binary_search_by_key(&op, |(o, _)| *o)
                .ok()
                .map(|i| b[i].1)
        })
    }

    async fn load_backdated(self, log: &OpLog, plan: PlanId) {
        let known = read_backdated(log, plan).await;
        if !known.is_empty() {
            self.backdated.set(known);
        }
    }

    /// Every change made to `entity`, newest first; follows the plan as it changes.
    pub fn history(self, entity: Entity) -> Vec<history::Change> {
        self.plan.track();
        self.device.with_value(|d| {
            d.as_ref()
                .map(|d| history::history(&d.replica, entity))
                .unwrap_or_default()
        })
    }

    /// Applies `edits` as the member holding `role` (or, in a shared plan, as this device's
    /// member): checked by the core's permission rules, stored durably, then shown. On any
    /// error nothing is shown and nothing is half-stored.
    pub async fn change(self, role: Role, edits: Vec<Edit>) -> Result<(), ChangeError> {
        let plan = self.plan.get_untracked().ok_or(ChangeError::NotLoaded)?;
        let member = self.member(role).ok_or(ChangeError::NoMember)?;
        let (log, ops) = self
            .device
            .with_value(|d| {
                d.as_ref()
                    .map(|d| (d.log.clone(), d.author(&plan, member, edits)))
            })
            .ok_or(ChangeError::NotLoaded)?;
        let ops = ops.map_err(ChangeError::Refused)?;
        device::save(&log, &ops).await?;
        self.apply(&ops);
        if let Some(session) = self.session.get_untracked() {
            self.edits.update_value(|edits| {
                match edits.iter_mut().find(|(p, _)| *p == session.plan) {
                    Some(entry) => entry.1 += 1,
                    None => edits.push((session.plan, 1)),
                }
            });
            self.sync.update(|s| sync::add_items(&mut s.pending, &ops));
            self.sync_plan(session.plan);
        }
        self.note_shown();
        Ok(())
    }

    /// Replaces the device's replica (after a rollback or a switch of plan) and shows it.
    fn show(self, replica: Replica) {
        self.plan.set(Some(Plan::from_replica(&replica)));
        self.device.update_value(|d| {
            if let Some(d) = d {
                d.replica = replica;
            }
        });
    }

    /// Applies `ops` to the plan shown; only the items they change are derived anew.
    fn apply(self, ops: &[Op]) {
        self.device.update_value(|device| {
            if let Some(device) = device {
                device.apply(ops);
                self.plan.update(|plan| {
                    if let Some(plan) = plan {
                        plan.refresh(&device.replica, entities_of(ops));
                    }
                });
            }
        });
    }

    fn node(self) -> Option<NodeId> {
        self.device.with_value(|d| d.as_ref().map(|d| d.node))
    }

    /// The shared plans a round may sync: not those the phone was taken out of.
    fn syncable(self) -> Vec<Session> {
        let leaving = self.leaving.get_value();
        self.entries.with_untracked(|plans| {
            plans
                .iter()
                .filter(|e| e.access != Some(AccessProblem::Revoked))
                .filter(|e| !leaving.contains(&e.membership.plan))
                .filter_map(|e| e.membership.session.clone())
                .collect()
        })
    }

    /// Follows the server's one event stream for every shared plan the server lets this phone
    /// sync (or stops, without any), so that others' changes show within moments.
    fn listen(self) {
        use wasm_bindgen::JsCast;
        type Handler = wasm_bindgen::closure::Closure<dyn FnMut(web_sys::Event)>;
        // A plan the server does not let in is left out: rounds learn when that changes.
        let leaving = self.leaving.get_value();
        let tokens: Vec<String> = self.entries.with_untracked(|plans| {
            plans
                .iter()
                .filter(|e| e.access.is_none() && !leaving.contains(&e.membership.plan))
                .filter_map(|e| e.membership.session.as_ref().map(|s| s.token.clone()))
                .collect()
        });
        // Dropping the old listener closes its connection first: one stream per phone.
        self.events.set_value(None);
        if tokens.is_empty() {
            return;
        }
        let url = format!("/api/events?tokens={}", tokens.join(","));
        let Ok(source) = web_sys::EventSource::new(&url) else {
            return;
        };
        // `{"plan": …, "last_seq": n}`: a round for that plan, unless this phone has it already.
        let on_ops = Handler::new(move |e: web_sys::Event| {
            if let Some((plan, seq)) = event_data(&e) {
                self.heard(plan, seq.unwrap_or(i64::MAX));
            }
        });
        // The server stopped telling about a plan (its phone revoked, say): a round learns why.
        let on_closed = Handler::new(move |e: web_sys::Event| match event_data(&e) {
            Some((plan, _)) => self.sync_plan(plan),
            None => self.sync_now(),
        });
        // The browser retries a dropped stream by itself, but gives up on a refusal: a round
        // then learns why and acts on it.
        let closed = source.clone();
        let on_error = Handler::new(move |_| {
            if closed.ready_state() == web_sys::EventSource::CLOSED {
                self.sync_now()
            }
        });
        let _ = source.add_event_listener_with_callback("ops", on_ops.as_ref().unchecked_ref());
        let _ =
            source.add_event_listener_with_callback("closed", on_closed.as_ref().unchecked_ref());
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        self.events.set_value(Some(Listener {
            source,
            _on_ops: on_ops,
            _on_closed: on_closed,
            _on_error: on_error,
        }));
    }

    fn edits_of(self, plan: PlanId) -> u64 {
        self.edits.with_value(|edits| edits_in(edits, plan))
    }

    /// The server says `plan` is at `seq`. A round runs for it unless this phone has that already;
    /// while a round runs, the question waits for it: the event about this phone's own push
    /// arrives before the round that sent it has moved the cursor.
    fn heard(self, plan: PlanId, seq: i64) {
        let waits = self.round.try_update_value(|r| {
            if r.running {
                match r.heard.iter_mut().find(|(p, _)| *p == plan) {
                    Some(entry) => entry.1 = entry.1.max(seq),
                    None => r.heard.push((plan, seq)),
                }
            }
            r.running
        });
        if waits != Some(true) && seq > self.cursor(plan) {
            self.sync_plan(plan);
        }
    }

    fn cursor(self, plan: PlanId) -> i64 {
        self.cursors.with_value(|c| {
            c.iter()
                .find(|(p, _)| *p == plan)
                .map_or(0, |(_, seq)| *seq)
        })
    }

    fn set_cursor(self, plan: PlanId, seq: i64) {
        self.cursors
            .update_value(|c| match c.iter_mut().find(|(p, _)| *p == plan) {
                Some(entry) => entry.1 = seq,
                None => c.push((plan, seq)),
            });
    }

    /// Starts a sync round for every shared plan unless one is running (then one more follows).
    pub fn sync_now(self) {
        self.ask(None);
    }

    /// Starts a sync round for one plan (or adds it to the next).
    pub fn sync_plan(self, plan: PlanId) {
        self.ask(Some(plan));
    }

    fn ask(self, plan: Option<PlanId>) {
        let Some(log) = self.log() else { return };
        let busy = self.round.try_update_value(|r| {
            match plan {
                Some(p) if !r.asked.contains(&p) => r.asked.push(p),
                Some(_) => {}
                None => r.all = true,
            }
            std::mem::replace(&mut r.running, true)
        });
        if busy != Some(false) {
            return;
        }
        leptos::task::spawn_local(async move {
            loop {
                let asked = self.round.try_update_value(|r| {
                    (std::mem::take(&mut r.all), std::mem::take(&mut r.asked))
                });
                let Some((all, asked)) = asked else { return };
                let pending = self.pending_plans();
                let wanted: Vec<Wanted> = self
                    .syncable()
                    .into_iter()
                    .filter(|s| all || asked.contains(&s.plan))
                    .map(|session| Wanted {
                        push: pending.contains(&session.plan),
                        session,
                    })
                    .collect();
                if !wanted.is_empty() {
                    let edits = self.edits.get_value();
                    let result = sync::round(log.clone(), wanted).await;
                    self.finish_rounds(&log, result, &edits).await;
                }
                let heard = self
                    .round
                    .try_update_value(|r| std::mem::take(&mut r.heard))
                    .unwrap_or_default();
                let newer: Vec<PlanId> = heard
                    .into_iter()
                    .filter(|(plan, seq)| *seq > self.cursor(*plan))
                    .map(|(plan, _)| plan)
                    .collect();
                let again = self.round.try_update_value(|r| {
                    for plan in newer {
                        if !r.asked.contains(&plan) {
                            r.asked.push(plan);
                        }
                    }
                    r.running = r.all || !r.asked.is_empty();
                    r.running
                });
                if again != Some(true) {
                    break;
                }
            }
        });
    }

    /// The shared plans with changes waiting to be sent.
    fn pending_plans(self) -> Vec<PlanId> {
        let shown = self
            .session
            .with_untracked(|s| s.as_ref().map(|s| s.plan))
            .filter(|_| self.sync.with_untracked(|s| !s.pending.is_empty()));
        self.entries.with_untracked(|plans| {
            plans
                .iter()
                .filter(|e| {
                    Some(e.membership.plan) == shown
                        || e.overview.as_ref().is_some_and(|o| o.pending > 0)
                })
                .map(|e| e.membership.plan)
                .collect()
        })
    }

    /// `edits`: [`Plans::edits`] as the round started.
    async fn finish_rounds(self, log: &OpLog, result: sync::Rounds, edits: &[(PlanId, u64)]) {
        match result {
            Ok(rounds) => {
                for (plan, result) in rounds {
                    let edited = self.edits_of(plan) != edits_in(edits, plan);
                    self.finish_round(log, plan, result, edited).await;
                }
                self.sync.update(|s| {
                    s.online = true;
                    s.last_synced = Some(js_sys::Date::now());
                });
            }
            Err(SyncError::Offline | SyncError::Malformed) => {
                self.sync.update(|s| s.online = false)
            }
            Err(SyncError::Rejected { code, .. }) => self.notice.set(Some(Notice {
                text: crate::format::refusal(self.i18n, &code),
                is_error: true,
            })),
            Err(SyncError::Storage(e)) => self.notice.set(Some(Notice {
                text: e.to_string(),
                is_error: true,
            })),
        }
    }

    /// `edited`: the plan was changed on this phone while the round ran, so what it left waiting
    /// is not all that waits.
    async fn finish_round(
        self,
        log: &OpLog,
        plan: PlanId,
        result: Result<sync::Round, SyncError>,
        edited: bool,
    ) {
        if self.leaving.with_value(|l| l.contains(&plan)) {
            return;
        }
        let shown = self.session.with_untracked(|s| s.as_ref().map(|s| s.plan)) == Some(plan);
        match result {
            Ok(round) => {
                self.set_cursor(plan, round.cursor);
                if self.access_of(plan).is_some() {
                    // Known to the server again (say, its data came back): as before.
                    let _ = log.delete_meta(&device::access_key(plan)).await;
                    self.set_access(plan, None);
                    self.listen();
                }
                // This phone's own changes are already shown: only others' are applied.
                let node = self.node();
                let others: Vec<Op> = round
                    .pulled
                    .iter()
                    .filter(|o| Some(o.hlc.node) != node)
                    .cloned()
                    .collect();
                let rebuild = !round.refused.is_empty() || round.restamped || round.mended;
                // Many operations came in one by one (a join, a long time offline): packed now,
                // or every later read of any plan pays for them record by record.
                if round.pulled.len() >= koers_store::PACK_AT {
                    if let Some(log) = self.log() {
                        self.pack(&log, plan);
                    }
                }
                if round.restamped || round.mended || round.more_to_send || edited {
                    self.sync_plan(plan);
                }
                if !shown {
                    if let Some(mut overview) = self.overview(plan).filter(|_| !edited) {
                        overview.pending = round.still_pending.len();
                        self.store_overview(plan, overview);
                    }
                    if rebuild {
                        self.forget_kept(plan);
                    }
                    self.kept.update_value(|kept| {
                        if let Some(k) = kept.iter_mut().find(|k| k.derived.id == plan) {
                            if !others.is_empty() {
                                k.apply(&others);
                            }
                            still_pending(&mut k.pending, round.still_pending.clone(), edited);
                            sync::merge_backdated(&mut k.backdated, &round.backdated);
                        }
                    });
                    if !others.is_empty() || rebuild {
                        self.refresh_overview(plan, others.len()).await;
                    }
                    return;
                }
                if !rebuild {
                    if !others.is_empty() {
                        self.apply(&others);
                    }
                } else if let Ok(loaded) = log.load(plan).await {
                    // Refused changes were removed from the log, or changes got new timestamps
                    // or ids: rebuild from what it holds now.
                    self.show(Replica::from_ops(plan, &loaded.ops));
                }
                if !round.backdated.is_empty() {
                    self.backdated
                        .update(|known| sync::merge_backdated(known, &round.backdated));
                }
                if !round.refused.is_empty() {
                    let text = tu_string!(self.i18n, sync_refused, count = round.refused.len())
                        .to_string();
                    self.notice.set(Some(Notice {
                        text,
                        is_error: true,
                    }));
                }
                if round.restamped {
                    self.notice.set(Some(Notice {
                        text: tu_string!(self.i18n, clock_right_again).to_string(),
                        is_error: false,
                    }));
                }
                if round.clock_ahead {
                    self.notice.set(Some(Notice {
                        text: crate::format::refusal(self.i18n, "clock_ahead"),
                        is_error: true,
                    }));
                }
                if let Some(code) = &round.push_refused {
                    self.notice.set(Some(Notice {
                        text: crate::format::refusal(self.i18n, code),
                        is_error: true,
                    }));
                }
                // A change made while the round ran was not in it: it still waits (the next
                // round, asked for above, sends it and counts again).
                self.sync
                    .update(|s| still_pending(&mut s.pending, round.still_pending, edited));
                self.note_shown();
            }
            Err(SyncError::Offline) => self.sync.update(|s| s.online = false),
            // Only an explicit removal takes the plan off the phone (`token_revoked` is what
            // servers before `device_revoked` said).
            Err(SyncError::Rejected { status: 401, code })
                if matches!(
                    code.as_str(),
                    "device_revoked" | "member_removed" | "token_revoked"
                ) =>
            {
                self.taken_out(log, plan).await
            }
            // Any other refusal of the token (unknown, say after the server's database was
            // restored from a backup) may not cost a single change: everything stays, rounds go
            // on at their normal pace, and the phone says it must be invited again.
            Err(SyncError::Rejected { status: 401, .. }) => {
                if self.access_of(plan) != Some(AccessProblem::Unknown) {
                    let access = Access {
                        plan,
                        problem: AccessProblem::Unknown,
                    };
                    let _ = log.set_meta(&device::access_key(plan), &access).await;
                    self.set_access(plan, Some(AccessProblem::Unknown));
                    self.listen();
                }
            }
            Err(SyncError::Rejected { code, .. }) if shown => self.notice.set(Some(Notice {
                text: crate::format::refusal(self.i18n, &code),
                is_error: true,
            })),
            Err(SyncError::Malformed) if shown => self.sync.update(|s| s.online = false),
            Err(SyncError::Storage(e)) if shown => self.notice.set(Some(Notice {
                text: e.to_string(),
                is_error: true,
            })),
            // Another plan's trouble is said when that plan is opened.
            Err(_) => {}
        }
    }

    fn access_of(self, plan: PlanId) -> Option<AccessProblem> {
        self.entries.with_untracked(|plans| {
            plans
                .iter()
                .find(|e| e.membership.plan == plan)
                .and_then(|e| e.access)
        })
    }

    /// What the server says about `plan` now, for its row and, when it is shown, every screen.
    fn set_access(self, plan: PlanId, problem: Option<AccessProblem>) {
        self.entries.update(|plans| {
            if let Some(e) = plans.iter_mut().find(|e| e.membership.plan == plan) {
                e.access = problem;
            }
        });
        if self.shown_plan() == Some(plan) {
            self.access
                .set(problem.map(|problem| Access { plan, problem }));
        }
    }

    /// The server took this phone, or its member, out of `plan`. Without unsent changes the plan
    /// leaves the phone at once; with some, the phone stops syncing it and keeps everything
    /// until the user has seen how many could not be sent, could save them as a file, and chose
    /// to remove the plan (`leave_revoked_plan`). Stored, so a reload asks again. Nothing of the
    /// phone's other plans changes.
    async fn taken_out(self, log: &OpLog, plan: PlanId) {
        let unsent = log.load(plan).await.map(|loaded| {
            sync::pending_items(loaded.ops.iter().filter(|o| loaded.pending.contains(&o.id)))
        });
        match unsent {
            Ok(items) if items.is_empty() => self.leave_plan(plan, true).await,
            // Unsent changes, or a log that cannot be read just now: nothing goes yet.
            unsent => {
                let access = Access {
                    plan,
                    problem: AccessProblem::Revoked,
                };
                let _ = log.set_meta(&device::access_key(plan), &access).await;
                if let Ok(items) = unsent {
                    if self.shown_plan() == Some(plan) {
                        self.sync.update(|s| s.pending = items);
                    }
                }
                self.set_access(plan, Some(AccessProblem::Revoked));
                self.listen();
            }
        }
    }

    /// Removes the plan shown, which this phone was taken out of, once the user chose to (see
    /// `taken_out`).
    pub async fn leave_revoked_plan(self) {
        if let Some(access) = self.access.get_untracked() {
            if access.problem == AccessProblem::Revoked {
                self.leave_plan(access.plan, true).await;
            }
        }
    }

    /// Takes this phone out of the plan shown at the user's wish: signs the phone out of it on
    /// the server (a shared plan), then removes it from the phone. If the server cannot be
    /// reached nothing is removed ([`WipeError::NotSignedOut`]) unless `even_if_not_signed_out`.
    pub async fn leave(self, even_if_not_signed_out: bool) -> Result<(), WipeError> {
        let Some(plan) = self.shown_plan() else {
            return Err(WipeError::Storage(not_loaded()));
        };
        if let Some(session) = self.session.get_untracked() {
            self.leaving.update_value(|l| l.push(plan));
            self.listen();
            if sync::sign_out(&session).await.is_err() && !even_if_not_signed_out {
                // Back as it was: the plan stays and syncs.
                self.leaving.update_value(|l| l.retain(|p| *p != plan));
                self.listen();
                return Err(WipeError::NotSignedOut);
            }
        }
        self.leave_plan(plan, false).await;
        self.leaving.update_value(|l| l.retain(|p| *p != plan));
        Ok(())
    }

    /// Takes `plan` off this phone, and opens what the phone holds next. `revoked`: the server
    /// took it away (said so on screen).
    async fn leave_plan(self, plan: PlanId, revoked: bool) {
        let Some(log) = self.log() else { return };
        self.forget_kept(plan);
        let _ = log.remove_plan(plan).await;
        let rest: Vec<Membership> = self.entries.with_untracked(|plans| {
            plans
                .iter()
                .filter(|e| e.membership.plan != plan)
                .map(|e| e.membership.clone())
                .collect()
        });
        let _ = log.set_meta(device::PLANS, &rest).await;
        // A new invite to the same plan then pulls it from the start.
        for key in [
            sync::cursor_key(plan),
            sync::received_key(plan),
            device::access_key(plan),
            overview_key(plan),
        ] {
            let _ = log.delete_meta(&key).await;
        }
        self.cursors.update_value(|c| c.retain(|(p, _)| *p != plan));
        self.entries
            .update(|plans| plans.retain(|e| e.membership.plan != plan));
        self.listen();
        let text = if revoked {
            tu_string!(self.i18n, device_revoked).to_string()
        } else {
            tu_string!(self.i18n, plan_left).to_string()
        };
        if self.shown_plan() == Some(plan) {
            let next = rest
                .iter()
                .find(|m| m.session.is_some())
                .or(rest.first())
                .map_or(koers_core::demo::PLAN, |m| m.plan);
            let _ = self.open_plan(next).await;
            self.left.set(Some(plan));
            self.notice.set(Some(Notice {
                text,
                is_error: revoked,
            }));
        }
    }

    /// Shows `plan` (one on this phone): as it was kept when opened before, or else replayed
    /// from the log, with its membership, waiting changes and what the server said about it;
    /// remembered as the plan used last.
    pub async fn open_plan(self, plan: PlanId) -> Result<(), StoreError> {
        let log = self.log().ok_or_else(not_loaded)?;
        if self.shown_plan() == Some(plan) {
            return Ok(());
        }
        let membership = self
            .membership(plan)
            .ok_or_else(|| StoreError::Failed("this plan is not on this phone".into()))?;
        let access = match membership.session {
            Some(_) => log.meta::<Access>(&device::access_key(plan)).await?,
            None => None,
        };
        let open = match self.take_kept(plan) {
            Some(open) => open,
            None => {
                let replayed = device::replay(&log, plan).await?;
                if replayed.unpacked {
                    self.pack(&log, plan);
                }
                let shared = membership.session.is_some();
                OpenPlan {
                    derived: Plan::from_replica(&replayed.replica),
                    replica: replayed.replica,
                    session: membership.session,
                    pending: if shared { replayed.pending } else { Vec::new() },
                    backdated: read_backdated(&log, plan).await,
                    unreadable: replayed.unreadable,
                }
            }
        };
        // What is shown now (perhaps another plan than when this began) is kept as it is.
        self.keep_shown();
        self.unreadable.set(open.unreadable);
        self.access.set(access);
        self.backdated.set(open.backdated);
        self.session.set(open.session);
        self.sync.update(|s| s.pending = open.pending);
        self.device.update_value(|d| {
            if let Some(d) = d {
                d.replica = open.replica;
            }
        });
        self.plan.set(Some(open.derived));
        let _ = log.set_meta(device::CURRENT, &plan).await;
        self.note_shown();
        Ok(())
    }

    /// Moves the plan shown into [`Plans::kept`] (before another is shown), dropping the one
    /// opened longest ago beyond [`KEPT_OPEN`].
    fn keep_shown(self) {
        let Some(derived) = self.plan.try_update_untracked(Option::take).flatten() else {
            return;
        };
        let replica = self
            .device
            .try_update_value(|d| {
                d.as_mut()
                    .map(|d| std::mem::replace(&mut d.replica, Replica::new(derived.id)))
            })
            .flatten();
        let Some(replica) = replica else { return };
        let open = OpenPlan {
            replica,
            derived,
            session: self.session.get_untracked(),
            pending: self.sync.with_untracked(|s| s.pending.clone()),
            backdated: self.backdated.get_untracked(),
            unreadable: self.unreadable.get_untracked(),
        };
        self.kept.update_value(|kept| {
            kept.insert(0, open);
            kept.truncate(KEPT_OPEN);
        });
    }

    fn take_kept(self, plan: PlanId) -> Option<OpenPlan> {
        self.kept
            .try_update_value(|kept| {
                let i = kept.iter().position(|k| k.derived.id == plan)?;
                Some(kept.remove(i))
            })
            .flatten()
    }

    /// Forgets what is kept of `plan`: its log changed in another way than by a round (it was
    /// left, renewed or imported into), so the next opening reads it anew.
    fn forget_kept(self, plan: PlanId) {
        self.kept
            .update_value(|kept| kept.retain(|k| k.derived.id != plan));
    }

    /// Starts a new shared plan on the server, with this device as its foster-care worker's:
    /// only a signed-in professional may (`session`, their session token).
    pub async fn found(
        self,
        new: koers_core::founding::NewPlan,
        session: Option<&str>,
    ) -> Result<PlanId, SyncError> {
        let (log, node) = self
            .device
            .with_value(|d| d.as_ref().map(|d| (d.log.clone(), d.node)))
            .ok_or(SyncError::Malformed)?;
        let mut clock = koers_core::Clock::new(node);
        let (_, _, ops) = koers_core::founding::plan_ops(
            &new,
            &mut clock,
            js_sys::Date::now() as u64,
            Uuid::new_v4,
        );
        let session = sync::create_plan(&ops, session).await?;
        log.append_remote(&ops).await?;
        self.add_shared(&log, session, true).await
    }

    /// Joins the plan an invite code is for; this device then speaks for the invite's member in
    /// it. Every other plan on the phone stays as it is; an invite to a plan the phone already
    /// holds renews its membership (a phone the server forgot, say) and keeps its changes.
    /// `professional`: a signed-in professional's session token, so the plan joins their
    /// account's caseload too.
    pub async fn join(
        self,
        code: &str,
        professional: Option<&str>,
    ) -> Result<(PlanId, Role), SyncError> {
        let session = sync::accept_invite(code, professional).await?;
        let log = self.log().ok_or(SyncError::Malformed)?;
        let role = session.role;
        Ok((self.add_shared(&log, session, true).await?, role))
    }

    /// Adds one plan of a signed-in professional's caseload (a device registered for this phone
    /// in it) as a joined plan is added, but without showing it: a caseload of twenty plans is
    /// added one after the other, each replayed once for its overview row only. The caller
    /// follows them all at the end ([`Plans::follow`]).
    pub async fn add_to_caseload(self, session: Session) -> Result<PlanId, SyncError> {
        let log = self.log().ok_or(SyncError::Malformed)?;
        let plan = self.add_shared(&log, session, false).await?;
        self.refresh_overview(plan, 0).await;
        Ok(plan)
    }

    /// Follows the server's event stream for every shared plan on the phone now, and runs a
    /// round for all of them (after plans were added with [`Plans::add_to_caseload`]).
    pub fn follow(self) {
        self.listen();
        self.sync_now();
    }

    /// Adds `session`'s plan to this phone (or renews its membership): stored (first, so a closed
    /// tab keeps it), pulled, and, when `show`n (or already the plan shown), shown and followed.
    async fn add_shared(
        self,
        log: &Rc<OpLog>,
        session: Session,
        show: bool,
    ) -> Result<PlanId, SyncError> {
        let plan = session.plan;
        let mut plans: Vec<Membership> = self
            .entries
            .with_untracked(|p| p.iter().map(|e| e.membership.clone()).collect());
        let membership = Membership {
            plan,
            session: Some(session.clone()),
        };
        match plans.iter_mut().find(|m| m.plan == plan) {
            Some(m) => *m = membership.clone(),
            None => plans.push(membership.clone()),
        }
        log.set_meta(device::PLANS, &plans).await?;
        // A new membership: what the server said about the old one no longer holds.
        log.delete_meta(&device::access_key(plan)).await?;
        // Pulled again from the first: a phone invited anew after its token was no longer known
        // (a server restored from a backup) may hold a cursor beyond what the server has now.
        log.delete_meta(&sync::cursor_key(plan)).await?;
        self.set_cursor(plan, 0);
        let pending = log
            .load(plan)
            .await
            .map(|l| !l.pending.is_empty())
            .unwrap_or(false);
        let round = sync::round(
            log.clone(),
            vec![Wanted {
                session: session.clone(),
                push: pending,
            }],
        )
        .await;
        // Packed before it is shown: a plan pulled whole arrives one record per operation, and
        // every later read of any plan on the phone would pay for them one by one.
        let _ = log.compact(plan, koers_store::PACK_AT).await;
        // Only now among the plans the rounds sync: a round of its own running beside this first
        // one would pull the same operations a second time.
        self.entries.update(|entries| {
            match entries.iter_mut().find(|e| e.membership.plan == plan) {
                Some(e) => {
                    e.membership = membership.clone();
                    e.access = None;
                }
                None => entries.push(PlanEntry {
                    membership: membership.clone(),
                    overview: None,
                    access: None,
                }),
            }
        });
        // Shown from the log as the round left it (whatever the round's outcome).
        self.forget_kept(plan);
        if show || self.shown_plan() == Some(plan) {
            if self.shown_plan() == Some(plan) {
                // Renewed: read anew.
                self.plan.set(None);
            }
            self.open_plan(plan).await?;
            self.listen();
        }
        if let Ok(rounds) = round {
            for (plan, result) in rounds {
                let result = result.map(|r| sync::Round {
                    pulled: vec![],
                    ..r
                });
                self.finish_round(log, plan, result, false).await;
            }
        }
        Ok(plan)
    }

    /// The whole plan shown as an export file (see `koers_core::export`).
    pub async fn export(self) -> Result<String, StoreError> {
        let log = self.log().ok_or_else(not_loaded)?;
        let plan = self.shown_plan().ok_or_else(not_loaded)?;
        let loaded = log.load(plan).await?;
        Ok(koers_core::export::export(
            plan,
            &loaded.ops,
            chrono::Utc::now(),
        ))
    }

    /// Reads an export file and adds its plan to this phone (kept on the phone only), then shows
    /// it. Nothing is stored unless the whole file is valid; a plan already on the phone gets
    /// the file's changes added (nothing of its own goes), unless it is shared: its truth is the
    /// server's.
    pub async fn import(self, text: &str) -> Result<PlanId, ImportFailure> {
        let imported = koers_core::export::import(text).map_err(ImportFailure::Invalid)?;
        if self
            .membership(imported.plan)
            .is_some_and(|m| m.session.is_some())
        {
            return Err(ImportFailure::SharedPlan);
        }
        let log = self
            .log()
            .ok_or_else(|| ImportFailure::Storage(not_loaded()))?;
        log.append_remote(&imported.ops)
            .await
            .map_err(ImportFailure::Storage)?;
        if self.membership(imported.plan).is_none() {
            let membership = Membership {
                plan: imported.plan,
                session: None,
            };
            let mut plans: Vec<Membership> = self
                .entries
                .with_untracked(|p| p.iter().map(|e| e.membership.clone()).collect());
            plans.push(membership.clone());
            log.set_meta(device::PLANS, &plans)
                .await
                .map_err(ImportFailure::Storage)?;
            self.entries.update(|entries| {
                entries.push(PlanEntry {
                    membership,
                    overview: None,
                    access: None,
                })
            });
        }
        let _ = log.compact(imported.plan, koers_store::PACK_AT).await;
        self.forget_kept(imported.plan);
        if self.shown_plan() == Some(imported.plan) {
            self.plan.set(None);
        }
        self.open_plan(imported.plan)
            .await
            .map_err(ImportFailure::Storage)?;
        Ok(imported.plan)
    }

    /// Removes Koers's data from this phone: signs the device out of every shared plan, then
    /// clears every plan, the device's facts and its settings. The caller starts the app afresh.
    /// If the server cannot be reached, nothing is wiped ([`WipeError::NotSignedOut`]) unless
    /// `even_if_not_signed_out`: the tokens would still work on the server until the worker
    /// removes this phone.
    pub async fn wipe(self, even_if_not_signed_out: bool) -> Result<(), WipeError> {
        let log = self.log().ok_or_else(|| WipeError::Storage(not_loaded()))?;
        let sessions = self.syncable();
        if !sessions.is_empty() {
            // No event stream and no new rounds: a running round may still write, so it may
            // finish first (a hung one is not waited for beyond five seconds); then the round
            // is held as if running. The plans stay, so the screen stays as it is.
            self.events.set_value(None);
            for _ in 0..100 {
                if !self.round.with_value(|r| r.running) {
                    break;
                }
                device::pause(50).await;
            }
            self.round.update_value(|r| r.running = true);
            let mut signed_out = true;
            for session in &sessions {
                signed_out &= sync::sign_out(session).await.is_ok();
            }
            if !signed_out && !even_if_not_signed_out {
                // Back as it was: the plans stay and sync.
                self.round.update_value(|r| r.running = false);
                self.listen();
                self.sync_now();
                return Err(WipeError::NotSignedOut);
            }
        }
        log.clear().await.map_err(WipeError::Storage)?;
        crate::settings::clear();
        Ok(())
    }

    /// The phone's log (for the device facts of the screens' own state, such as a
    /// professional's session); `None` when it could not be opened.
    pub fn log(self) -> Option<Rc<OpLog>> {
        self.device
            .with_value(|d| d.as_ref().map(|d| d.log.clone()))
    }
}

/// What waits for the server after a round: what the round left waiting, and, if the plan was
/// `edited` meanwhile, also what was made then (the next round sends it).
fn still_pending(pending: &mut Vec<Entity>, left: Vec<Entity>, edited: bool) {
    let made_meanwhile = std::mem::replace(pending, left);
    if edited {
        for item in made_meanwhile {
            if !pending.contains(&item) {
                pending.push(item);
            }
        }
    }
}

/// The changes the server received more than a day after they were written (see
/// [`Plans::received_late`]), as stored for `plan`.
async fn read_backdated(log: &OpLog, plan: PlanId) -> Vec<(OpId, u64)> {
    log.meta(&sync::received_key(plan))
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
}

fn edits_in(edits: &[(PlanId, u64)], plan: PlanId) -> u64 {
    edits
        .iter()
        .find(|(p, _)| *p == plan)
        .map_or(0, |(_, n)| *n)
}

/// The plan and seq an event names (`{"plan": …, "last_seq": n}`).
fn event_data(e: &web_sys::Event) -> Option<(PlanId, Option<i64>)> {
    use wasm_bindgen::JsCast;
    #[derive(serde::Deserialize)]
    struct Data {
        plan: Option<PlanId>,
        last_seq: Option<i64>,
    }
    let text = e.dyn_ref::<web_sys::MessageEvent>()?.data().as_string()?;
    let data: Data = serde_json::from_str(&text).ok()?;
    Some((data.plan?, data.last_seq))
}

/// Whom a plan's overview row speaks for: the invited member of a shared plan, else the member
/// of the example (or imported) plan with the role chosen on this phone.
fn member_of(session: Option<&Session>, plan: &Plan) -> Option<MemberId> {
    let role = session
        .map(|s| s.role)
        .or_else(crate::settings::stored_role)?;
    device::member(session, plan, role)
}

fn not_loaded() -> StoreError {
    StoreError::Failed("the plan is not loaded yet".into())
}
