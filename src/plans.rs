//! The plan on this device: the operation log (IndexedDB) folded into a replica, exposed to the
//! screens as signals. Every change is authored, checked, stored, and only then shown; when the
//! device has joined a shared plan, changes are synced in the background (see `sync.rs`).

use std::rc::Rc;
use std::time::Duration;

use koers_core::{history, Edit, Entity, MemberId, Op, OpId, Plan, PlanId, Replica, Role};
use koers_store::{OpLog, StoreError};
use leptos::ev;
use leptos::prelude::*;
use uuid::Uuid;

pub use crate::device::ChangeError;
use crate::device::{self, Device, Opened};
pub use crate::device::{Access, AccessProblem};
use crate::i18n::*;
use crate::sync::{self, Session, SyncError};

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

#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub text: String,
    pub is_error: bool,
}

/// Signals for the screens plus the non-reactive device state behind them.
#[derive(Clone, Copy)]
pub struct PlanStore {
    device: StoredValue<Option<Device>, LocalStorage>,
    pub plan: RwSignal<Option<Plan>>,
    /// The plan as screens read it (see [`PlanStore::shown`]).
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
    /// A round is running / another was asked for meanwhile.
    round: StoredValue<(bool, bool)>,
    /// The server's event stream for the shared plan: a round runs when others changed it.
    events: StoredValue<Option<Listener>, LocalStorage>,
    i18n: leptos_i18n::I18nContext<Locale>,
}

struct Listener {
    source: web_sys::EventSource,
    _on_ops: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::Event)>,
    _on_error: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::Event)>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.source.close();
    }
}

impl PlanStore {
    /// The store for what the device opened (see [`device::open`]), shown at once; then
    /// syncing starts.
    pub fn new(opened: Result<Opened, StoreError>) -> PlanStore {
        let plan = RwSignal::new(None::<Plan>);
        // One copy per change, shared by every screen, rather than one per read.
        let shown = Memo::new(move |_| {
            plan.with(|p| {
                p.clone()
                    .unwrap_or_else(|| Plan::from_replica(&Replica::new(PlanId(Uuid::nil()))))
            })
        });
        let store = PlanStore {
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
            round: StoredValue::new((false, false)),
            events: StoredValue::new_local(None),
            i18n: use_i18n(),
        };
        match opened {
            Ok(opened) => {
                store.adopt(opened);
                store.state.set(LoadState::Ready);
                device::mark("koers:plan-shown");
                store.listen();
                store.sync_now();
            }
            Err(e) => store.state.set(LoadState::Failed(e)),
        }
        let online = window_event_listener(ev::online, move |_| {
            store.sync.update(|s| s.online = true);
            store.sync_now();
        });
        let offline = window_event_listener(ev::offline, move |_| {
            store.sync.update(|s| s.online = false)
        });
        let timer = set_interval_with_handle(move || store.sync_now(), SYNC_EVERY).ok();
        on_cleanup(move || {
            online.remove();
            offline.remove();
            if let Some(t) = timer {
                t.clear();
            }
        });
        store
    }

    /// Takes over what the device opened: its plan, replica, session and waiting changes.
    fn adopt(self, opened: Opened) {
        self.plan
            .set(Some(Plan::from_replica(&opened.device.replica)));
        self.access.set(opened.access);
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
        if let Ok(Some(known)) = log
            .meta::<Vec<(OpId, u64)>>(&sync::received_key(plan))
            .await
        {
            self.backdated.set(known);
        }
    }

    /// The server took this phone, or its member, out of the plan.
    fn revoked(self) -> bool {
        self.access.with_untracked(|a| {
            a.as_ref()
                .is_some_and(|a| a.problem == AccessProblem::Revoked)
        })
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
        device::store(&log, &ops).await?;
        self.apply(&ops);
        if self.session.get_untracked().is_some() {
            self.sync.update(|s| sync::add_items(&mut s.pending, &ops));
            self.sync_now();
        }
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

    fn apply(self, ops: &[Op]) {
        self.device.update_value(|device| {
            if let Some(device) = device {
                device.apply(ops);
                self.plan.set(Some(Plan::from_replica(&device.replica)));
            }
        });
    }

    /// Follows the server's event stream of the shared plan (or stops, without one), so that
    /// others' changes show within moments.
    fn listen(self) {
        use wasm_bindgen::JsCast;
        // A phone the server does not let in gets no stream: rounds learn when that changes.
        let session = self
            .session
            .get_untracked()
            .filter(|_| self.access.with_untracked(Option::is_none));
        let listener = session.and_then(|session| {
            let url = format!(
                "/api/plans/{}/events?access_token={}",
                session.plan, session.token
            );
            let source = web_sys::EventSource::new(&url).ok()?;
            let on_ops =
                wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
                    self.sync_now()
                });
            source
                .add_event_listener_with_callback("ops", on_ops.as_ref().unchecked_ref())
                .ok()?;
            // The browser retries a dropped stream by itself, but gives up on a refusal (such as
            // a revoked device): a round then learns why and acts on it.
            let closed = source.clone();
            let on_error =
                wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
                    if closed.ready_state() == web_sys::EventSource::CLOSED {
                        self.sync_now()
                    }
                });
            source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            Some(Listener {
                source,
                _on_ops: on_ops,
                _on_error: on_error,
            })
        });
        self.events.set_value(listener);
    }

    /// Starts a sync round unless one is running (then one more follows it).
    pub fn sync_now(self) {
        let Some(session) = self.session.get_untracked() else {
            return;
        };
        // Taken out of the plan: nothing more goes out, nothing comes in.
        if self.revoked() {
            return;
        }
        let Some(log) = self.log() else {
            return;
        };
        let busy = self.round.try_update_value(|(running, again)| {
            let busy = *running;
            *again |= busy;
            *running = true;
            busy
        });
        if busy != Some(false) {
            return;
        }
        leptos::task::spawn_local(async move {
            loop {
                let result = sync::round(log.clone(), session.clone()).await;
                self.finish_round(&log, &session, result).await;
                // No round for a plan the phone left, or was taken out of.
                let over = self.revoked()
                    || self
                        .session
                        .with_untracked(|s| s.as_ref() != Some(&session));
                let again = self.round.try_update_value(|(running, again)| {
                    let go = std::mem::take(again) && !over;
                    *running = go;
                    go
                });
                if again != Some(true) {
                    break;
                }
            }
        });
    }

    async fn finish_round(
        self,
        log: &OpLog,
        session: &Session,
        result: Result<sync::Round, SyncError>,
    ) {
        match result {
            Ok(round) => {
                if self.access.with_untracked(Option::is_some) {
                    // Known to the server again (say, its data came back): as before.
                    let _ = log.delete_meta(device::ACCESS).await;
                    self.access.set(None);
                    self.listen();
                }
                if round.refused.is_empty() && !round.restamped && !round.mended {
                    self.apply(&round.pulled);
                } else if let Ok(loaded) = log.load(session.plan).await {
                    // Refused changes were removed from the log, or changes got new timestamps
                    // or ids: rebuild from what it holds now.
                    self.show(Replica::from_ops(session.plan, &loaded.ops));
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
                if round.restamped || round.mended {
                    self.sync_now();
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
                self.sync.set(SyncStatus {
                    online: true,
                    pending: round.still_pending,
                    last_synced: Some(js_sys::Date::now()),
                });
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
                self.taken_out(log, session.plan).await
            }
            // Any other refusal of the token (unknown, say after the server's database was
            // restored from a backup) may not cost a single change: everything stays, rounds go
            // on at their normal pace, and the phone says it must be invited again.
            Err(SyncError::Rejected { status: 401, .. }) => {
                self.events.set_value(None);
                let access = Access {
                    plan: session.plan,
                    problem: AccessProblem::Unknown,
                };
                if self.access.get_untracked().as_ref() != Some(&access) {
                    let _ = log.set_meta(device::ACCESS, &access).await;
                    self.access.set(Some(access));
                }
            }
            Err(SyncError::Rejected { code, .. }) => self.notice.set(Some(Notice {
                text: crate::format::refusal(self.i18n, &code),
                is_error: true,
            })),
            Err(SyncError::Malformed) => self.sync.update(|s| s.online = false),
            Err(SyncError::Storage(e)) => self.notice.set(Some(Notice {
                text: e.to_string(),
                is_error: true,
            })),
        }
    }

    /// The server took this phone, or its member, out of `plan`. Without unsent changes the plan
    /// leaves the phone at once; with some, the phone stops syncing and keeps everything until
    /// the user has seen how many could not be sent, could save them as a file, and chose to
    /// remove the plan (`leave_revoked_plan`). Stored, so a reload asks again.
    async fn taken_out(self, log: &OpLog, plan: PlanId) {
        self.events.set_value(None);
        let unsent = log.load(plan).await.map(|loaded| {
            sync::pending_items(loaded.ops.iter().filter(|o| loaded.pending.contains(&o.id)))
        });
        match unsent {
            Ok(items) if items.is_empty() => self.leave_plan(log, plan).await,
            // Unsent changes, or a log that cannot be read just now: nothing goes yet.
            unsent => {
                let access = Access {
                    plan,
                    problem: AccessProblem::Revoked,
                };
                let _ = log.set_meta(device::ACCESS, &access).await;
                if let Ok(items) = unsent {
                    self.sync.update(|s| s.pending = items);
                }
                self.access.set(Some(access));
            }
        }
    }

    /// Removes the plan this phone was taken out of, once the user chose to (see `taken_out`).
    pub async fn leave_revoked_plan(self) {
        let (Some(log), Some(access)) = (self.log(), self.access.get_untracked()) else {
            return;
        };
        if access.problem == AccessProblem::Revoked {
            self.leave_plan(&log, access.plan).await;
        }
    }

    /// Takes `plan` off this phone, says so, and opens what the phone holds next (the example plan).
    async fn leave_plan(self, log: &OpLog, plan: PlanId) {
        let _ = log.remove_plan(plan).await;
        let _ = log.delete_meta(device::SESSION).await;
        // A new invite to the same plan then pulls it from the start.
        let _ = log.delete_meta(&sync::cursor_key(plan)).await;
        let _ = log.delete_meta(&sync::received_key(plan)).await;
        let _ = log.delete_meta(device::ACCESS).await;
        self.access.set(None);
        self.notice.set(Some(Notice {
            text: tu_string!(self.i18n, device_revoked).to_string(),
            is_error: true,
        }));
        self.session.set(None);
        self.listen();
        self.state.set(LoadState::Loading);
        if let Ok(opened) = device::open().await {
            self.adopt(opened);
        }
        self.state.set(LoadState::Ready);
    }

    /// Starts a new shared plan on the server, with this device as its foster-care worker's.
    pub async fn found(self, new: koers_core::founding::NewPlan) -> Result<(), SyncError> {
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
        let session = sync::create_plan(&ops).await?;
        log.append_remote(&ops).await?;
        self.switch_to(&log, session).await
    }

    /// Joins the plan an invite code is for; this device then speaks for the invite's member.
    pub async fn join(self, code: &str) -> Result<Role, SyncError> {
        let session = sync::accept_invite(code).await?;
        let log = self.log().ok_or(SyncError::Malformed)?;
        let role = session.role;
        self.switch_to(&log, session).await?;
        Ok(role)
    }

    /// The whole plan on this phone as an export file (see `koers_core::export`).
    pub async fn export(self) -> Result<String, StoreError> {
        let log = self.log().ok_or_else(not_loaded)?;
        let plan = self
            .plan
            .with_untracked(|p| p.as_ref().map(|p| p.id))
            .ok_or_else(not_loaded)?;
        let loaded = log.load(plan).await?;
        Ok(koers_core::export::export(
            plan,
            &loaded.ops,
            chrono::Utc::now(),
        ))
    }

    /// Reads an export file and makes its plan the one this phone shows. Nothing is stored
    /// unless the whole file is valid.
    pub async fn import(self, text: &str) -> Result<(), ImportFailure> {
        if self.session.with_untracked(Option::is_some) {
            return Err(ImportFailure::SharedPlan);
        }
        let imported = koers_core::export::import(text).map_err(ImportFailure::Invalid)?;
        let log = self
            .log()
            .ok_or_else(|| ImportFailure::Storage(not_loaded()))?;
        log.append_remote(&imported.ops)
            .await
            .map_err(ImportFailure::Storage)?;
        log.set_meta(device::LOCAL_PLAN, &imported.plan)
            .await
            .map_err(ImportFailure::Storage)?;
        let _ = log.compact(imported.plan, koers_store::PACK_AT).await;
        let loaded = log
            .load(imported.plan)
            .await
            .map_err(ImportFailure::Storage)?;
        self.show(Replica::from_ops(imported.plan, &loaded.ops));
        Ok(())
    }

    /// Removes Koers's data from this phone: signs the device out of its shared plan, then
    /// clears the plan, the device's facts and its settings. The caller starts the app afresh.
    /// If the server cannot be reached, nothing is wiped ([`WipeError::NotSignedOut`]) unless
    /// `even_if_not_signed_out`: the token would still work on the server until the worker
    /// removes this phone.
    pub async fn wipe(self, even_if_not_signed_out: bool) -> Result<(), WipeError> {
        let log = self.log().ok_or_else(|| WipeError::Storage(not_loaded()))?;
        if let Some(session) = self.session.get_untracked() {
            // No event stream and no new rounds: a running round may still write, so it may
            // finish first (a hung one is not waited for beyond five seconds); then the round
            // is held as if running. The session signal stays, so the screen stays as it is.
            self.events.set_value(None);
            for _ in 0..100 {
                if !self.round.with_value(|(running, _)| *running) {
                    break;
                }
                device::pause(50).await;
            }
            self.round.set_value((true, false));
            if sync::sign_out(&session).await.is_err() && !even_if_not_signed_out {
                // Back as it was: the plan stays and syncs.
                self.round.set_value((false, false));
                self.listen();
                self.sync_now();
                return Err(WipeError::NotSignedOut);
            }
        }
        log.clear().await.map_err(WipeError::Storage)?;
        crate::settings::clear();
        Ok(())
    }

    fn log(self) -> Option<Rc<OpLog>> {
        self.device
            .with_value(|d| d.as_ref().map(|d| d.log.clone()))
    }

    /// Makes `session`'s plan this device's plan: stored, pulled, shown and followed.
    async fn switch_to(self, log: &Rc<OpLog>, session: Session) -> Result<(), SyncError> {
        log.set_meta(device::SESSION, &session).await?;
        // A new membership: what the server said about the old one no longer holds.
        log.delete_meta(device::ACCESS).await?;
        // Pulled again from the first: a phone invited anew after its token was no longer known
        // (a server restored from a backup) may hold a cursor beyond what the server has now.
        log.delete_meta(&sync::cursor_key(session.plan)).await?;
        self.access.set(None);
        let round = sync::round(log.clone(), session.clone()).await;
        let loaded = log.load(session.plan).await?;
        self.show(Replica::from_ops(session.plan, &loaded.ops));
        self.load_backdated(log, session.plan).await;
        self.session.set(Some(session.clone()));
        self.listen();
        self.finish_round(
            log,
            &session,
            round.map(|r| sync::Round {
                pulled: vec![],
                ..r
            }),
        )
        .await;
        Ok(())
    }
}

fn not_loaded() -> StoreError {
    StoreError::Failed("the plan is not loaded yet".into())
}
