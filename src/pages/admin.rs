//! `/beheer`: the organisation's administrator invites professionals (a one-time enrolment
//! link), withdraws open links, deactivates professionals, hands a plan over to another
//! professional and reads the access log. Everything here comes from the server: without a
//! connection the screen says so.

use koers_core::PlanId;
use leptos::prelude::*;
use leptos_i18n::I18nContext;

use crate::accounts::{self, AccessEntry, NewEnrolment, OrganisationPlan, OrganisationView};
use crate::format;
use crate::i18n::*;
use crate::professional::{use_professional, Professional};
use crate::route::{Link, Nav, Screen};
use crate::sync::SyncError;

/// What the screen's parts share: the organisation as last loaded, and what the last action
/// did (a confirmation or a problem, said once at the top).
#[derive(Clone, Copy)]
struct Board {
    professional: Professional,
    organisation: RwSignal<Option<OrganisationView>>,
    problem: RwSignal<Option<String>>,
    done: RwSignal<Option<String>>,
    /// Bumped after each change, so the access log shows it.
    changes: RwSignal<u32>,
    i18n: I18nContext<Locale>,
}

impl Board {
    fn token(self) -> Option<String> {
        self.professional
            .signed_in
            .with_untracked(|s| s.as_ref().map(|s| s.token.clone()))
    }

    /// The administrator's own account (not to be deactivated from here).
    fn me(self) -> Option<String> {
        self.professional
            .signed_in
            .with_untracked(|s| s.as_ref().map(|s| s.account.account.clone()))
    }

    /// Runs one call with the session; a session the server ended is forgotten (the screen then
    /// asks to sign in), anything else is said.
    async fn call<T, F>(self, call: impl FnOnce(String) -> F) -> Option<T>
    where
        F: std::future::Future<Output = Result<T, SyncError>>,
    {
        let token = self.token()?;
        match self.professional.checked(call(token).await).await {
            Ok(answer) => {
                self.problem.set(None);
                Some(answer)
            }
            Err(e) => {
                self.done.set(None);
                self.problem
                    .set(Some(format::account_problem(self.i18n, &e)));
                None
            }
        }
    }

    fn reload(self) {
        leptos::task::spawn_local(async move {
            let loaded = self
                .call(|token| async move { accounts::organisation(&token).await })
                .await;
            if let Some(organisation) = loaded {
                self.organisation.set(Some(organisation));
            }
        });
    }

    /// After a change: the organisation and the access log anew, and what was done.
    fn changed(self, done: String) {
        self.done.set(Some(done));
        self.changes.update(|n| *n += 1);
        self.reload();
    }
}

#[component]
pub fn Admin(nav: Nav) -> impl IntoView {
    let i18n = use_i18n();
    let professional = use_professional();
    let board = Board {
        professional,
        organisation: RwSignal::new(None),
        problem: RwSignal::new(None),
        done: RwSignal::new(None),
        changes: RwSignal::new(0),
        i18n,
    };
    // Who may see it: not known until the session was read; drawn anew only when that changes.
    let access = Memo::new(move |_| {
        if !professional.read.get() {
            return None;
        }
        Some(
            professional
                .signed_in
                .with(|s| s.as_ref().map(|s| s.account.admin)),
        )
    });
    Effect::new(move |_| {
        if access.get() == Some(Some(true)) {
            board.reload();
        }
    });
    let organisation_name = move || {
        professional.signed_in.with(|s| {
            s.as_ref()
                .map(|s| s.account.organisation.name.clone())
                .unwrap_or_default()
        })
    };

    view! {
        <h1>{tu_string!(i18n, admin_title)}</h1>
        {move || match access.get() {
            None => view! { <p class="muted" role="status">{tu_string!(i18n, admin_loading)}</p> }.into_any(),
            Some(None) => view! {
                <section class="card" data-testid="sign-in-first">
                    <p>{tu_string!(i18n, admin_only)}</p>
                    <Link nav to=Screen::SignIn class="button primary wide" testid="sign-in-link">{tu_string!(i18n, pro_sign_in_title)}</Link>
                </section>
            }.into_any(),
            Some(Some(false)) => view! {
                <p class="alert" role="alert" data-testid="admin-only">{tu_string!(i18n, admin_only)}</p>
            }.into_any(),
            Some(Some(true)) => view! {
                <p class="muted">{tu_string!(i18n, admin_intro, organisation = organisation_name()).to_string()}</p>
                <div aria-live="polite">
                    {move || board.done.get().map(|d| view! { <p class="confirm" role="status" data-testid="admin-done">{d}</p> })}
                </div>
                {move || board.problem.get().map(|p| view! { <p class="alert" role="alert" data-testid="admin-problem">{p}</p> })}
                {move || match board.organisation.get() {
                    None => view! { <p class="muted" role="status">{tu_string!(i18n, admin_loading)}</p> }.into_any(),
                    Some(o) => view! { <Professionals board list=o.professionals/> }.into_any(),
                }}
                // Outside what a reload draws anew: the link just made stays to be copied.
                <Invite board/>
                {move || board.organisation.get().map(|o| view! {
                    <OpenLinks board list=o.enrolments.clone()/>
                    <Plans board organisation=o/>
                })}
                <AccessLog board/>
            }.into_any(),
        }}
    }
}

/// Every professional of the organisation; an active one can be deactivated (after a confirm).
#[component]
fn Professionals(board: Board, list: Vec<accounts::ProfessionalInfo>) -> impl IntoView {
    let i18n = board.i18n;
    let me = board.me();
    view! {
        <section class="card" aria-labelledby="admin-professionals-title">
            <h2 id="admin-professionals-title">{tu_string!(i18n, admin_professionals)}</h2>
            <ul class="devices" data-testid="admin-professionals">
                {list.into_iter().map(|p| {
                    let active = p.deactivated_at.is_none();
                    let own = me.as_deref() == Some(p.account.as_str());
                    let facts = [
                        p.admin.then(|| tu_string!(i18n, account_admin).to_string()),
                        Some(if active { tu_string!(i18n, admin_active) } else { tu_string!(i18n, admin_deactivated) }.to_string()),
                        Some(tu_string!(i18n, admin_plan_count, count = p.plans).to_string()),
                    ].into_iter().flatten().collect::<Vec<_>>().join(" · ");
                    view! {
                        <li data-testid="admin-professional" data-account=p.account.clone() data-active=active.to_string()>
                            <p><strong>{p.name.clone()}</strong>" · "{facts}</p>
                            {(active && !own).then(|| view! { <Deactivate board account=p.account.clone() name=p.name.clone()/> })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn Deactivate(board: Board, account: String, name: String) -> impl IntoView {
    let i18n = board.i18n;
    let asking = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let account = StoredValue::new(account);
    let name = StoredValue::new(name);
    let confirm = move |_| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            let account = account.get_value();
            let revoked = board
                .call(|token| async move { accounts::deactivate(&token, &account).await })
                .await;
            busy.set(false);
            asking.set(false);
            if let Some(count) = revoked {
                board.changed(
                    tu_string!(
                        i18n,
                        admin_deactivated_done,
                        name = name.get_value(),
                        count = count
                    )
                    .to_string(),
                );
            }
        });
    };
    view! {
        <Show when=move || asking.get() fallback=move || view! {
            <button type="button" class="button small danger" data-testid="admin-deactivate" on:click=move |_| asking.set(true)>
                {tu_string!(i18n, admin_deactivate)}
            </button>
        }>
            <div class="alert" role="alert" data-testid="admin-deactivate-confirm">
                <p>{tu_string!(i18n, admin_deactivate_confirm, name = name.get_value()).to_string()}</p>
                <button type="button" class="button wide danger" disabled=busy on:click=confirm data-testid="admin-deactivate-yes">
                    {tu_string!(i18n, admin_deactivate_yes)}
                </button>
                <button type="button" class="button wide" on:click=move |_| asking.set(false)>{tu_string!(i18n, cancel)}</button>
            </div>
        </Show>
    }
}

/// A one-time enrolment link for a new professional, shown once to copy and send.
#[component]
fn Invite(board: Board) -> impl IntoView {
    let i18n = board.i18n;
    let name = RwSignal::new(String::new());
    let admin = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let missing = RwSignal::new(false);
    let made = RwSignal::new(None::<(String, NewEnrolment)>);
    let copied = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let who = name.get_untracked().trim().to_string();
        missing.set(who.is_empty());
        if who.is_empty() {
            return;
        }
        busy.set(true);
        copied.set(false);
        leptos::task::spawn_local(async move {
            let as_admin = admin.get_untracked();
            let for_whom = who.clone();
            let answer = board
                .call(|token| async move { accounts::invite(&token, &for_whom, as_admin).await })
                .await;
            busy.set(false);
            if let Some(enrolment) = answer {
                name.set(String::new());
                admin.set(false);
                made.set(Some((who, enrolment)));
                board.changes.update(|n| *n += 1);
                board.reload();
            }
        });
    };
    let copy = move |_| {
        if let Some((_, e)) = made.get_untracked() {
            copied.set(copy_text(&e.link()));
        }
    };
    view! {
        <section class="card" aria-labelledby="admin-invite-title">
            <h2 id="admin-invite-title">{tu_string!(i18n, admin_invite_title)}</h2>
            <p>{tu_string!(i18n, admin_invite_intro)}</p>
            <form class="form" novalidate on:submit=submit data-testid="admin-invite">
                <label class="field">
                    <span>{tu_string!(i18n, name)}</span>
                    <input type="text" autocomplete="off" required bind:value=name data-testid="admin-invite-name"
                        aria-invalid=move || missing.get().to_string()/>
                </label>
                {move || missing.get().then(|| view! { <p class="alert" role="alert">{tu_string!(i18n, error_name)}</p> })}
                <div class="choice-row">
                    <label class="choice">
                        <input type="checkbox" bind:checked=admin data-testid="admin-invite-admin"/>
                        <span>{tu_string!(i18n, admin_invite_admin)}</span>
                    </label>
                </div>
                <button type="submit" class="button primary wide" disabled=busy data-testid="admin-invite-submit">
                    {tu_string!(i18n, admin_invite_button)}
                </button>
            </form>
            {move || made.get().map(|(who, e)| {
                let link = e.link();
                view! {
                    <div class="invite" data-testid="admin-invite-result">
                        <p>{tu_string!(i18n, admin_invite_link, name = who, date = format::instant(i18n.get_locale_untracked(), &e.expires_at)).to_string()}</p>
                        <p><a href=link.clone() data-testid="admin-invite-link">{link.clone()}</a></p>
                        <button type="button" class="button wide" on:click=copy data-testid="admin-invite-copy">{tu_string!(i18n, admin_copy)}</button>
                        <p role="status">{move || copied.get().then(|| tu_string!(i18n, admin_copied))}</p>
                    </div>
                }
            })}
        </section>
    }
}

/// Copies `text` to the clipboard (`navigator.clipboard.writeText`, through `Reflect`: no
/// web-sys feature, no glue in the first download). Whether the browser took it.
fn copy_text(text: &str) -> bool {
    use wasm_bindgen::{JsCast, JsValue};
    let navigator: JsValue = window().navigator().into();
    let Ok(clipboard) = js_sys::Reflect::get(&navigator, &"clipboard".into()) else {
        return false;
    };
    let write = js_sys::Reflect::get(&clipboard, &"writeText".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    write.is_some_and(|f| f.call1(&clipboard, &JsValue::from_str(text)).is_ok())
}

/// Enrolment links neither used nor withdrawn, with "Intrekken".
#[component]
fn OpenLinks(board: Board, list: Vec<accounts::EnrolmentInfo>) -> impl IntoView {
    let i18n = board.i18n;
    let l = i18n.get_locale_untracked();
    let open: Vec<_> = list.into_iter().filter(|e| e.open()).collect();
    let withdraw = move |enrolment: String| {
        leptos::task::spawn_local(async move {
            let withdrawn = board
                .call(|token| async move { accounts::revoke_enrolment(&token, &enrolment).await })
                .await;
            if withdrawn.is_some() {
                board.changes.update(|n| *n += 1);
                board.reload();
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="admin-links-title">
            <h2 id="admin-links-title">{tu_string!(i18n, admin_open_links)}</h2>
            {open.is_empty().then(|| view! { <p class="muted">{tu_string!(i18n, admin_no_links)}</p> })}
            <ul class="devices" data-testid="admin-enrolments">
                {open.into_iter().map(|e| {
                    let expired = js_sys::Date::parse(&e.expires_at) < js_sys::Date::now();
                    let date = format::instant(l, &e.expires_at);
                    let state = if expired {
                        tu_string!(i18n, admin_link_expired, date = date).to_string()
                    } else {
                        tu_string!(i18n, admin_link_until, date = date).to_string()
                    };
                    let role = e.admin.then(|| format!(" · {}", tu_string!(i18n, account_admin)));
                    let id = e.enrolment.clone();
                    view! {
                        <li class="device" data-testid="admin-enrolment">
                            <span><strong>{e.name.clone()}</strong>{role}" · "{state}</span>
                            <button type="button" class="button small" data-testid="admin-revoke-enrolment"
                                on:click=move |_| withdraw(id.clone())>
                                {tu_string!(i18n, withdraw_invite)}
                            </button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

/// The organisation's plans: the child, the worker, and "Overdragen aan…".
#[component]
fn Plans(board: Board, organisation: OrganisationView) -> impl IntoView {
    let i18n = board.i18n;
    // Those a plan can go to: the active professionals.
    let active: Vec<(String, String)> = organisation
        .professionals
        .iter()
        .filter(|p| p.deactivated_at.is_none())
        .map(|p| (p.account.clone(), p.name.clone()))
        .collect();
    view! {
        <section class="card" aria-labelledby="admin-plans-title">
            <h2 id="admin-plans-title">{tu_string!(i18n, admin_plans)}</h2>
            {organisation.plans.is_empty().then(|| view! { <p class="muted">{tu_string!(i18n, admin_no_plans)}</p> })}
            <ul class="devices" data-testid="admin-plans">
                {organisation.plans.into_iter().map(|plan| {
                    let to = hand_over_to(&plan, &active);
                    view! { <PlanRow board plan to/> }
                }).collect_view()}
            </ul>
        </section>
    }
}

/// The professionals a plan can be handed over to: the active ones, but not its worker now.
fn hand_over_to(plan: &OrganisationPlan, active: &[(String, String)]) -> Vec<(String, String)> {
    let worker = plan.worker.as_ref().map(|w| w.account.as_str());
    active
        .iter()
        .filter(|(account, _)| Some(account.as_str()) != worker)
        .cloned()
        .collect()
}

#[component]
fn PlanRow(board: Board, plan: OrganisationPlan, to: Vec<(String, String)>) -> impl IntoView {
    let i18n = board.i18n;
    let child = plan
        .child_name
        .clone()
        .filter(|c| !c.trim().is_empty())
        .unwrap_or_else(|| tu_string!(i18n, admin_unnamed_plan).to_string());
    let worker = match &plan.worker {
        Some(w) => tu_string!(i18n, admin_plan_worker, name = w.name.clone()).to_string(),
        None => tu_string!(i18n, admin_plan_no_worker).to_string(),
    };
    let id: PlanId = plan.plan;
    let choosing = RwSignal::new(false);
    let chosen = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let to = StoredValue::new(to);
    let name_of = move |account: &str| {
        to.with_value(|to| {
            to.iter()
                .find(|(a, _)| a == account)
                .map(|(_, n)| n.clone())
                .unwrap_or_default()
        })
    };
    let child_name = StoredValue::new(child.clone());
    let confirm = move |_| {
        let account = chosen.get_untracked();
        if account.is_empty() {
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            let name = name_of(&account);
            let handed = board
                .call(|token| async move { accounts::hand_over(&token, id, &account).await })
                .await;
            busy.set(false);
            if handed.is_some() {
                choosing.set(false);
                board.changed(
                    tu_string!(
                        i18n,
                        admin_handed_over,
                        child = child_name.get_value(),
                        name = name
                    )
                    .to_string(),
                );
            }
        });
    };
    view! {
        <li data-testid="admin-plan" data-plan=id.0.to_string()>
            <p><strong data-testid="admin-plan-child">{child}</strong></p>
            <p class="muted" data-testid="admin-plan-worker">{worker}</p>
            <Show when=move || choosing.get() fallback=move || view! {
                <button type="button" class="button small" data-testid="admin-hand-over" on:click=move |_| choosing.set(true)>
                    {tu_string!(i18n, admin_hand_over)}
                </button>
            }>
                {
                    move || if to.with_value(Vec::is_empty) {
                        view! {
                            <p class="muted">{tu_string!(i18n, admin_no_colleague)}</p>
                            <button type="button" class="button small" on:click=move |_| choosing.set(false)>{tu_string!(i18n, cancel)}</button>
                        }.into_any()
                    } else {
                        view! {
                            <div class="form" data-testid="admin-hand-over-form">
                                <label class="field">
                                    <span>{tu_string!(i18n, admin_hand_over_to)}</span>
                                    <select data-testid="admin-hand-over-to" on:change=move |ev| chosen.set(event_target_value(&ev))>
                                        <option value="" selected=chosen.get_untracked().is_empty()>{tu_string!(i18n, admin_hand_over_choose)}</option>
                                        {to.get_value().into_iter().map(|(account, name)| view! {
                                            <option value=account.clone() selected=chosen.get_untracked() == account>{name}</option>
                                        }).collect_view()}
                                    </select>
                                </label>
                                {move || {
                                    let account = chosen.get();
                                    (!account.is_empty()).then(|| view! {
                                        <div class="alert" role="alert" data-testid="admin-hand-over-confirm">
                                            <p>{tu_string!(i18n, admin_hand_over_confirm, child = child_name.get_value(), name = name_of(&account)).to_string()}</p>
                                            <button type="button" class="button wide danger" disabled=busy on:click=confirm data-testid="admin-hand-over-yes">
                                                {tu_string!(i18n, admin_hand_over_yes)}
                                            </button>
                                        </div>
                                    })
                                }}
                                <button type="button" class="button wide" on:click=move |_| { choosing.set(false); chosen.set(String::new()); }>
                                    {tu_string!(i18n, cancel)}
                                </button>
                            </div>
                        }.into_any()
                    }
                }
            </Show>
        </li>
    }
}

/// The access log, newest first, a page at a time ("Meer" reads the lines before the last shown).
#[component]
fn AccessLog(board: Board) -> impl IntoView {
    let i18n = board.i18n;
    let entries = RwSignal::new(Vec::<AccessEntry>::new());
    let more = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let load = move |before: Option<String>| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            let first = before.is_none();
            let page = board
                .call(|token| async move { accounts::access_log(&token, before.as_deref()).await })
                .await;
            busy.set(false);
            if let Some(page) = page {
                more.set(page.len() >= accounts::LOG_PAGE);
                entries.update(|e| {
                    if first {
                        e.clear();
                    }
                    e.extend(page);
                });
            }
        });
    };
    // The first page, and again after each change made here.
    Effect::new(move |_| {
        board.changes.track();
        load(None);
    });
    let plan_name = move |plan: PlanId| {
        board.organisation.with(|o| {
            o.as_ref()
                .and_then(|o| o.plans.iter().find(|p| p.plan == plan))
                .and_then(|p| p.child_name.clone())
        })
    };
    view! {
        <section class="card" aria-labelledby="admin-log-title" data-testid="admin-access-log">
            <h2 id="admin-log-title">{tu_string!(i18n, admin_log)}</h2>
            <p class="muted">{tu_string!(i18n, admin_log_intro)}</p>
            {move || (entries.with(Vec::is_empty) && !busy.get()).then(|| view! {
                <p class="muted">{tu_string!(i18n, admin_log_empty)}</p>
            })}
            <ol class="devices">
                {move || entries.get().into_iter().map(|e| {
                    let l = i18n.get_locale_untracked();
                    let who = match (&e.account, &e.device) {
                        (Some(a), _) => a.name.clone(),
                        (None, Some(_)) => tu_string!(i18n, admin_log_phone).to_string(),
                        (None, None) => tu_string!(i18n, admin_log_server).to_string(),
                    };
                    let plan = e.plan.map(|p| plan_name(p).unwrap_or_else(|| p.0.to_string()[..8].to_string()));
                    let line = [Some(who), plan, Some(format::access_action(l, &e.action)), e.detail.clone().filter(|d| !d.is_empty())]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" · ");
                    view! {
                        <li data-testid="admin-log-entry" data-action=e.action.clone()>
                            <span class="muted"><time datetime=e.at.clone()>{format::instant(l, &e.at)}</time>" "</span>
                            {line}
                        </li>
                    }
                }).collect_view()}
            </ol>
            <Show when=move || more.get()>
                <button type="button" class="button wide" disabled=busy data-testid="admin-log-more"
                    on:click=move |_| load(entries.with_untracked(|e| e.last().map(|e| e.at.clone())))>
                    {tu_string!(i18n, admin_log_more)}
                </button>
            </Show>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::AccountRef;

    fn plan(worker: Option<&str>) -> OrganisationPlan {
        OrganisationPlan {
            plan: PlanId(uuid::Uuid::from_u128(1)),
            child_name: Some("Noa".into()),
            created_at: None,
            worker: worker.map(|w| AccountRef {
                account: w.into(),
                name: w.to_uppercase(),
            }),
            professionals: Vec::new(),
        }
    }

    #[test]
    fn a_plan_goes_to_another_active_professional_only() {
        let active = vec![
            ("sanne".to_string(), "Sanne".to_string()),
            ("ahmed".to_string(), "Ahmed".to_string()),
        ];
        let to = hand_over_to(&plan(Some("sanne")), &active);
        assert_eq!(to, vec![("ahmed".to_string(), "Ahmed".to_string())]);
        assert_eq!(hand_over_to(&plan(None), &active).len(), 2);
    }
}
