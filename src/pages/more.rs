//! Taking the plan elsewhere: an export file to keep or move to another phone, the planned
//! visits for the phone's calendar, a printout for a meeting, and reminders as notifications.
//! And taking Koers off this phone.

use koers_core::Role;
use leptos::prelude::*;

use crate::components::download::{download, file_stem};
use crate::components::notice::NoticeBar;
use crate::format;
use crate::i18n::*;
use crate::plans::{use_plans, ImportFailure, Notice, Plans, WipeError};
use crate::professional::use_professional;
use crate::reminders;
use crate::route::{Link, Nav, Screen};
use leptos_i18n::I18nContext;

#[component]
pub fn More(nav: Nav) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let plan = plans.shown();
    let tell =
        move |text: String, is_error: bool| plans.notice.set(Some(Notice { text, is_error }));
    let slug = move || plan.with_untracked(|p| file_stem(&p.child_name));

    let export = move |_| {
        leptos::task::spawn_local(async move {
            match plans.export().await {
                Ok(text) => download(&text, "application/json", &format!("{}.json", slug())),
                Err(e) => tell(e.to_string(), true),
            }
        })
    };
    let calendar = move |_| {
        let ics = plan.with_untracked(|p| {
            koers_core::calendar::planned_ics(
                p,
                |c| {
                    format!(
                        "{} · {}",
                        format::contact_kind(i18n.get_locale_untracked(), c.kind),
                        tu_string!(i18n, plan_of, child = p.child_name.clone())
                    )
                },
                chrono::Utc::now(),
            )
        });
        download(&ics, "text/calendar", &format!("{}.ics", slug()));
    };
    let import = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        leptos::task::spawn_local(async move {
            let text = wasm_bindgen_futures::JsFuture::from(file.text()).await;
            input.set_value("");
            let Some(text) = text.ok().and_then(|t| t.as_string()) else {
                tell(tu_string!(i18n, import_unreadable).to_string(), true);
                return;
            };
            match plans.import(&text).await {
                Ok(id) => {
                    nav.open(id, Screen::More);
                    tell(
                        tu_string!(
                            i18n,
                            import_done,
                            child = plan.with_untracked(|p| p.child_name.clone())
                        )
                        .to_string(),
                        false,
                    )
                }
                Err(e) => tell(import_failure(i18n, &e), true),
            }
        });
    };

    view! {
        <h1>{tu_string!(i18n, more_title)}</h1>
        <NoticeBar notice=plans.notice/>
        // The plan's other screens, which the bottom bar has no room for.
        <nav class="card more-links" aria-label=tu_string!(i18n, more_screens) data-testid="more-screens">
            <Link nav to=Screen::Evaluations class="button wide">{crate::format::tab_label(i18n.get_locale_untracked(), Screen::Evaluations)}</Link>
            <Link nav to=Screen::Network class="button wide">{crate::format::tab_label(i18n.get_locale_untracked(), Screen::Network)}</Link>
            {move || plans.session.with(Option::is_some).then(|| view! {
                <Link nav to=Screen::Members class="button wide">{tu_string!(i18n, members_title)}</Link>
            })}
            <Link nav to=Screen::Caseload class="button wide" testid="caseload-link">{tu_string!(i18n, caseload_title)}</Link>
        </nav>
        <section class="card" aria-labelledby="export-title">
            <h2 id="export-title">{tu_string!(i18n, export_title)}</h2>
            <p>{tu_string!(i18n, export_intro)}</p>
            <button class="button wide" on:click=export data-testid="export">{tu_string!(i18n, export_button)}</button>
            <label class="button wide file">
                {tu_string!(i18n, import_button)}
                <input type="file" accept=".json,application/json" on:change=import data-testid="import"/>
            </label>
        </section>
        <section class="card" aria-labelledby="calendar-title">
            <h2 id="calendar-title">{tu_string!(i18n, calendar_title)}</h2>
            <p>{tu_string!(i18n, calendar_intro)}</p>
            <button class="button wide" on:click=calendar data-testid="calendar">{tu_string!(i18n, calendar_button)}</button>
        </section>
        <section class="card" aria-labelledby="print-title">
            <h2 id="print-title">{tu_string!(i18n, print_title)}</h2>
            <p>{tu_string!(i18n, print_intro)}</p>
            <Link nav to=Screen::Summary class="button wide" testid="summary-link">{tu_string!(i18n, summary_open)}</Link>
        </section>
        <reminders::NotificationSwitch/>
        <Account nav/>
        <LeavePlan/>
        <WipePhone/>
    }
}

/// The professional signed in on this phone, with "Afmelden" (and "Beheer" for an
/// administrator); for a professional's role without a session, the way to sign in.
#[component]
fn Account(nav: Nav) -> impl IntoView {
    let plans = use_plans();
    let professional = use_professional();
    let i18n = use_i18n();
    let busy = RwSignal::new(false);
    // The server could not be reached: asked once more before forgetting the session anyway.
    let offline = RwSignal::new(false);
    let signed_in = Memo::new(move |_| {
        professional.signed_in.with(|s| {
            s.as_ref().map(|s| {
                let a = &s.account;
                (a.name.clone(), a.organisation.name.clone(), a.admin)
            })
        })
    });
    let professional_role = move || {
        plans.session.with(|s| {
            s.as_ref().is_some_and(|s| {
                matches!(
                    s.role,
                    Role::FosterCareWorker | Role::Guardian | Role::CareWorker
                )
            })
        })
    };
    let sign_out = move |_| {
        let anyway = offline.get_untracked();
        busy.set(true);
        leptos::task::spawn_local(async move {
            match professional.sign_out().await {
                Err(crate::sync::SyncError::Offline) if !anyway => offline.set(true),
                Err(crate::sync::SyncError::Offline) => professional.forget().await,
                Err(e) => plans.notice.set(Some(Notice {
                    text: format::account_problem(i18n, &e),
                    is_error: true,
                })),
                Ok(()) => {}
            }
            if professional.signed_in.with_untracked(Option::is_none) {
                offline.set(false);
                plans.notice.set(Some(Notice {
                    text: tu_string!(i18n, signed_out).to_string(),
                    is_error: false,
                }));
            }
            busy.set(false);
        });
    };
    view! {
        {move || match signed_in.get() {
            Some((name, organisation, admin)) => Some(view! {
                <section class="card" aria-labelledby="account-title" data-testid="account">
                    <h2 id="account-title">{tu_string!(i18n, account_title)}</h2>
                    <p data-testid="signed-in-account">
                        {tu_string!(i18n, pro_signed_in_as, name = name, organisation = organisation).to_string()}
                        {admin.then(|| format!(" · {}", tu_string!(i18n, account_admin)))}
                    </p>
                    {admin.then(|| view! {
                        <Link nav to=Screen::Admin class="button wide" testid="admin-link">{tu_string!(i18n, admin_title)}</Link>
                    })}
                    <p>{tu_string!(i18n, sign_out_intro)}</p>
                    {move || offline.get().then(|| view! { <p class="alert" role="alert">{tu_string!(i18n, sign_out_offline)}</p> })}
                    <button type="button" class="button wide" disabled=busy on:click=sign_out data-testid="sign-out">
                        {move || if offline.get() { tu_string!(i18n, sign_out_anyway) } else { tu_string!(i18n, sign_out) }}
                    </button>
                </section>
            }.into_any()),
            None if professional_role() => Some(view! {
                <section class="card" aria-labelledby="account-title">
                    <h2 id="account-title">{tu_string!(i18n, account_title)}</h2>
                    <Link nav to=Screen::SignIn class="button wide" testid="sign-in-link">{tu_string!(i18n, pro_sign_in_link)}</Link>
                </section>
            }.into_any()),
            None => None,
        }}
    }
}

/// Takes the plan shown off this phone (the others stay), after saying what is lost.
#[component]
fn LeavePlan() -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let asking = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let not_signed_out = RwSignal::new(false);
    let child = move || plans.shown().with(|p| p.child_name.clone());
    let unsent = move || plans.sync.with(|s| s.pending.len());
    let leave = move |_| {
        let anyway = not_signed_out.get_untracked();
        leptos::task::spawn_local(async move {
            if confirmed(plans, i18n, busy, not_signed_out, plans.leave(anyway)).await {
                asking.set(false);
            }
        });
    };
    let cancel = move |_| {
        asking.set(false);
        not_signed_out.set(false);
    };
    view! {
        <section class="card" aria-labelledby="leave-title" data-testid="leave">
            <h2 id="leave-title">{move || tu_string!(i18n, leave_title, child = child()).to_string()}</h2>
            <p>{tu_string!(i18n, leave_intro)}</p>
            <Show when=move || asking.get() fallback=move || view! {
                <button type="button" class="button wide" on:click=move |_| asking.set(true) data-testid="leave-start">
                    {tu_string!(i18n, leave_button)}
                </button>
            }>
                <div class="alert" role="alert" data-testid="leave-confirm">
                    {move || not_signed_out.get().then(|| view! { <p>{tu_string!(i18n, wipe_not_signed_out)}</p> })}
                    {move || match unsent() {
                        0 => None,
                        1 => Some(tu_string!(i18n, wipe_unsent_one).to_string()),
                        n => Some(tu_string!(i18n, wipe_unsent, count = n).to_string()),
                    }.map(|text| view! { <p><strong>{text}</strong></p> })}
                    <button type="button" class="button wide danger" on:click=leave disabled=busy data-testid="leave-confirm-button">
                        {move || if not_signed_out.get() { tu_string!(i18n, wipe_anyway) } else { tu_string!(i18n, leave_confirm) }}
                    </button>
                    <button type="button" class="button wide" on:click=cancel>
                        {tu_string!(i18n, cancel)}
                    </button>
                </div>
            </Show>
        </section>
    }
}

/// Wipes Koers's data from this phone (a phone given away, or no longer used), after saying
/// what stays and what is lost.
#[component]
fn WipePhone() -> impl IntoView {
    let plans = use_plans();
    let professional = use_professional();
    let i18n = use_i18n();
    let asking = RwSignal::new(false);
    let busy = RwSignal::new(false);
    // The server could not sign this phone out: asked once more before wiping anyway.
    let not_signed_out = RwSignal::new(false);
    let shared = move || {
        plans
            .entries
            .with(|p| p.iter().any(|e| e.membership.session.is_some()))
    };
    // Per plan, as the overview counts them (the plan shown counts as its sync bar does).
    let unsent = move || {
        let shown = plans.shown_plan();
        let shown_pending = plans.sync.with(|s| s.pending.len());
        plans.entries.with(|plans| {
            plans
                .iter()
                .filter_map(|e| {
                    let o = e.overview.as_ref()?;
                    let n = if Some(e.membership.plan) == shown {
                        shown_pending
                    } else {
                        o.pending
                    };
                    (n > 0).then(|| (o.summary.child_name.clone(), n))
                })
                .collect::<Vec<_>>()
        })
    };
    let wipe = move |_| {
        let anyway = not_signed_out.get_untracked();
        leptos::task::spawn_local(async move {
            if confirmed(plans, i18n, busy, not_signed_out, plans.wipe(anyway)).await {
                // A professional's session too stops working on the server (when it can be
                // reached: it expires by itself otherwise).
                let _ = professional.sign_out().await;
                // A fresh start: the role choice and the example plan, as on a new phone.
                drop(window().location().replace("/"));
            }
        });
    };
    let cancel = move |_| {
        asking.set(false);
        not_signed_out.set(false);
    };
    view! {
        <section class="card" aria-labelledby="wipe-title" data-testid="wipe">
            <h2 id="wipe-title">{tu_string!(i18n, wipe_title)}</h2>
            <p>{tu_string!(i18n, wipe_intro)}</p>
            <Show when=move || asking.get() fallback=move || view! {
                <button type="button" class="button wide" on:click=move |_| asking.set(true)>
                    {tu_string!(i18n, wipe_button)}
                </button>
            }>
                <div class="alert" role="alert" data-testid="wipe-confirm">
                    <p>{move || match (not_signed_out.get(), shared()) {
                        (true, _) => tu_string!(i18n, wipe_not_signed_out),
                        (false, true) => tu_string!(i18n, wipe_shared),
                        (false, false) => tu_string!(i18n, wipe_local),
                    }}</p>
                    <ul data-testid="wipe-unsent">
                        {move || unsent().into_iter().map(|(child, n)| {
                            let text = match n {
                                1 => tu_string!(i18n, wipe_unsent_one).to_string(),
                                n => tu_string!(i18n, wipe_unsent, count = n).to_string(),
                            };
                            view! { <li><strong>{tu_string!(i18n, plan_of, child = child).to_string()}": "</strong>{text}</li> }
                        }).collect_view()}
                    </ul>
                    <button type="button" class="button wide danger" on:click=wipe disabled=busy>
                        {move || if not_signed_out.get() { tu_string!(i18n, wipe_anyway) } else { tu_string!(i18n, wipe_confirm) }}
                    </button>
                    <button type="button" class="button wide" on:click=cancel>
                        {tu_string!(i18n, cancel)}
                    </button>
                </div>
            </Show>
        </section>
    }
}

/// Runs a confirmed leave or wipe, `busy` meanwhile. Whether it was done: if the server could not
/// sign this phone out, `not_signed_out` asks once more; a storage failure is said.
async fn confirmed(
    plans: Plans,
    i18n: I18nContext<Locale>,
    busy: RwSignal<bool>,
    not_signed_out: RwSignal<bool>,
    step: impl std::future::Future<Output = Result<(), WipeError>>,
) -> bool {
    busy.set(true);
    let result = step.await;
    match &result {
        Ok(()) => {}
        Err(WipeError::NotSignedOut) => not_signed_out.set(true),
        Err(WipeError::Storage(_)) => plans.notice.set(Some(Notice {
            text: tu_string!(i18n, error_storage).to_string(),
            is_error: true,
        })),
    }
    busy.set(false);
    result.is_ok()
}

fn import_failure(i18n: I18nContext<Locale>, e: &ImportFailure) -> String {
    use koers_core::ImportError as E;
    match e {
        ImportFailure::SharedPlan => tu_string!(i18n, import_shared_plan).to_string(),
        ImportFailure::Invalid(E::NewerVersion { .. }) => {
            tu_string!(i18n, import_newer).to_string()
        }
        ImportFailure::Invalid(E::NotAnExport) => tu_string!(i18n, import_not_export).to_string(),
        ImportFailure::Invalid(_) => tu_string!(i18n, import_damaged).to_string(),
        ImportFailure::Storage(koers_store::StoreError::QuotaExceeded) => {
            tu_string!(i18n, error_quota).to_string()
        }
        ImportFailure::Storage(_) => tu_string!(i18n, error_storage).to_string(),
    }
}
