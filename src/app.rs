//! The shell: language, role, the plans on this phone, the update banner and the routes.

use leptos::prelude::*;

use crate::components::{access::AccessAlert, sync_bar::SyncBar, update_banner::UpdateBanner};
use crate::device::Opened;
use crate::i18n::*;
use crate::lazy_screens::{self, ChunkUnavailable};
use crate::pages::{caseload::Caseload, choose_role::ChooseRole, home::Home};
use crate::plans::{LoadState, Plans};
use crate::professional::Professional;
use crate::route::{Link, Nav, Screen, TABS};
use crate::settings;
use koers_core::PlanId;
use koers_store::StoreError;

/// The whole app, for what the device opened (see `device::open`).
#[component]
pub fn App(opened: Result<Opened, StoreError>) -> impl IntoView {
    // The provider's children must be `Send`; the device (IndexedDB handles) is not.
    let opened = StoredValue::new_local(Some(opened));
    view! {
        <I18nContextProvider>
            <Shell opened/>
        </I18nContextProvider>
    }
}

#[component]
fn Shell(opened: StoredValue<Option<Result<Opened, StoreError>>, LocalStorage>) -> impl IntoView {
    let i18n = use_i18n();
    // Dutch unless this device chose otherwise. The provider starts from the browser's language
    // in its own first effect, so the stored choice is applied in ours, which runs after it.
    let chosen = settings::stored_locale();
    Effect::new(move |applied: Option<()>| {
        let locale = i18n.get_locale();
        if applied.is_none() {
            i18n.set_locale(chosen);
        } else {
            settings::store_locale(locale);
        }
    });
    let role = settings::role();
    let opened = opened.try_update_value(Option::take).flatten();
    let plans =
        Plans::new(opened.unwrap_or_else(|| Err(StoreError::Failed("opened twice".into()))));
    let nav = Nav::new(plans.notice);
    provide_context(plans);
    // The professional signed in on this phone, if any (read from the phone meanwhile).
    Professional::provide(plans);
    // The plan the address names is shown (one that is not on this phone is "not found").
    Effect::new(move |_| {
        let Some(wanted) = nav.plan.get() else { return };
        if plans.shown_plan() != Some(wanted) && on_phone(plans, wanted) {
            leptos::task::spawn_local(async move {
                let _ = plans.open_plan(wanted).await;
            });
        }
    });
    // The plan shown left the phone: its address now opens what is shown instead, with the
    // notice that says why.
    Effect::new(move |_| {
        let Some(left) = plans.left.get() else { return };
        if let Some(shown) = plans.plan.with(|p| p.as_ref().map(|p| p.id)) {
            if nav.plan.get_untracked() == Some(left) {
                nav.replace(shown, Screen::Home);
            }
        }
    });
    // Links lead to the plan shown; an old address that named no plan gets it.
    Effect::new(move |_| {
        let shown = plans.plan.with(|p| p.as_ref().map(|p| p.id));
        nav.shown.set(shown);
        if let Some(plan) = shown {
            nav.name_plan(plan);
        }
    });
    // Reminders of every plan, as notifications where allowed.
    Effect::new(move |_| {
        plans
            .entries
            .with(|entries| crate::reminders::notify_all(i18n, entries))
    });
    // A role chosen for the example (or an imported) plan: its overview row follows it.
    Effect::new(move |_| {
        role.track();
        plans.note_shown();
    });
    // What the main area shows: `/` is "Mijn gezinnen" on a phone with two or more plans.
    let screen = Memo::new(move |_| {
        let screen = nav.screen.get();
        match nav.plan.get() {
            Some(plan) if !plans.entries.with(|_| on_phone(plans, plan)) => Screen::NotFound,
            None if screen == Screen::Home
                && plans.entries.with(|p| {
                    crate::device::opens_on_caseload(p.iter().map(|e| e.membership.plan))
                }) =>
            {
                Screen::Caseload
            }
            _ => screen,
        }
    });
    // A phone that joined a shared plan speaks for its invited member's role.
    Effect::new(move |_| {
        if let Some(session) = plans.session.get() {
            role.set(Some(session.role));
        }
    });
    // The screen and the role it is drawn for. The phone's own screens do not depend on the
    // role, so they are not drawn anew when it changes: joining sets the role, and a Join drawn
    // again would redeem its invite a second time.
    // A plan's screen waits for its plan: after "Mijn gezinnen" (which replays none) the plan
    // chosen is read from the log first.
    let loaded = Memo::new(move |_| plans.plan.with(Option::is_some));
    let drawn = Memo::new(move |_| {
        let screen = screen.get();
        let role = match screen {
            Screen::Join
            | Screen::NewPlan
            | Screen::Caseload
            | Screen::Enrol
            | Screen::SignIn
            | Screen::Admin => None,
            _ => role.get(),
        };
        (screen, role, loaded.get() || !screen.of_a_plan())
    });
    let switch_language = move |_| {
        i18n.set_locale(if i18n.get_locale() == Locale::nl {
            Locale::en
        } else {
            Locale::nl
        });
    };

    // A language switch redraws the whole page, here and only here: every text below reads the
    // language untracked (`tu_string!`). Were a screen's own closures also to follow it, they
    // could run after this redraw disposed their signals, which traps the wasm.
    move || {
        let locale = i18n.get_locale();
        view! {
            <a class="skip" href="#main">{tu_string!(i18n, skip_to_content)}</a>
            <header class="topbar">
                // The start: "Mijn gezinnen" on a phone with several plans, else home.
                <a href="/" class="brand" on:click=move |e: leptos::ev::MouseEvent| {
                    if !(e.ctrl_key() || e.meta_key() || e.shift_key() || e.alt_key()) {
                        e.prevent_default();
                        nav.start();
                    }
                }>
                    <img src="/icons/icon.svg" alt="" width="28" height="28"/>
                    <span>"Koers"</span>
                </a>
                // Named in the language it switches to, as people look for their own language.
                <button class="chip" on:click=switch_language lang=if locale == Locale::nl { "en" } else { "nl" }>
                    {tu_string!(i18n, other_language)}
                </button>
                // The plan shown, by its child's name: tapped, every plan on the phone.
                {move || (plans.entries.with(Vec::len) > 1 && plans.plan.with(Option::is_some)).then(|| view! {
                    <Link nav to=Screen::Caseload class="chip" testid="plan-switch">
                        <span class="visually-hidden">{tu_string!(i18n, switch_plan)}": "</span>
                        {move || plans.shown().with(|p| p.child_name.clone())}
                    </Link>
                })}
                // In a shared plan the phone speaks for its invited member: no role to choose.
                {move || match (role.get(), plans.session.with(Option::is_some)) {
                    (Some(r), false) => Some(view! {
                        <Link nav to=Screen::ChooseRole class="chip" testid="current-role">{crate::format::role(i18n.get_locale_untracked(), r)}</Link>
                    }.into_any()),
                    (Some(r), true) => Some(view! { <span class="chip" data-testid="current-role">{crate::format::role(i18n.get_locale_untracked(), r)}</span> }.into_any()),
                    (None, _) => None,
                }}
            </header>
            <SyncBar/>
            <UpdateBanner/>
            {move || role.get().is_some().then(|| view! { <Tabs nav/> })}
            <main id="main" tabindex="-1">
                // On every screen while the server no longer lets this phone sync its plan.
                <AccessAlert/>
                {move || (plans.unreadable.get() > 0).then(|| view! {
                    <p class="alert" role="alert">{tu_string!(i18n, unreadable_records, count = plans.unreadable.get()).to_string()}</p>
                })}
                {move || match plans.state.get() {
                    LoadState::Loading => view! { <p class="muted" role="status">{tu_string!(i18n, loading)}</p> }.into_any(),
                    LoadState::Failed(e) => view! {
                        <div class="alert" role="alert">
                            <p>{tu_string!(i18n, storage_unavailable)}</p>
                            <p class="muted">{e.to_string()}</p>
                        </div>
                    }.into_any(),
                    LoadState::Ready => match drawn.get() {
                        (_, _, false) => view! { <p class="muted" role="status">{tu_string!(i18n, loading)}</p> }.into_any(),
                        (screen, now, true) => match (screen, now) {
                        (Screen::Home, Some(r)) => view! { <Home role=r nav/> }.into_any(),
                        // A start screen like home: in the app's chunk, not fetched later.
                        (Screen::Caseload, _) => view! { <Caseload nav/> }.into_any(),
                        (Screen::Home | Screen::ChooseRole, _) => view! { <ChooseRole role nav/> }.into_any(),
                        (Screen::Goals | Screen::Goal(_) | Screen::Contacts | Screen::Phases | Screen::Evaluations | Screen::Network, None) => {
                            view! { <ChooseRole role nav/> }.into_any()
                        }
                        (Screen::NotFound, _) => view! { <p>{tu_string!(i18n, not_found)}</p> }.into_any(),
                        (screen, now) => lazy_screen(move || lazy_screens::other_screen(role, now, nav, screen)),
                        },
                    },
                }}
            </main>
        }
    }
}

/// A screen drawn by the lazily loaded chunk. The first time it waits for the download; when that
/// fails (offline before the app was fully cached), it says so and offers to try again.
fn on_phone(plans: Plans, plan: PlanId) -> bool {
    plan == koers_core::demo::PLAN
        || plans
            .entries
            .with_untracked(|p| p.iter().any(|e| e.membership.plan == plan))
}

fn lazy_screen<F>(make: impl Fn() -> F + Send + Sync + 'static) -> AnyView
where
    F: std::future::Future<Output = Result<AnyView, ChunkUnavailable>> + Send + 'static,
{
    let i18n = use_i18n();
    let attempt = RwSignal::new(0u32);
    view! {
        <Suspense fallback=move || view! { <p class="muted" role="status">{tu_string!(i18n, screen_loading)}</p> }>
            {move || {
                attempt.track();
                let screen = make();
                Suspend::new(async move {
                    screen.await.unwrap_or_else(|ChunkUnavailable| view! {
                        <div class="alert" role="alert" data-testid="chunk-unavailable">
                            <p>{tu_string!(i18n, screen_unavailable)}</p>
                            <button type="button" class="button" on:click=move |_| attempt.update(|n| *n += 1)>
                                {tu_string!(i18n, try_again)}
                            </button>
                        </div>
                    }.into_any())
                })
            }}
        </Suspense>
    }
    .into_any()
}

/// The plan's main screens, one tap away from each other.
#[component]
fn Tabs(nav: Nav) -> impl IntoView {
    let i18n = use_i18n();
    let tab = move |to: Screen| {
        let current = Signal::derive(move || nav.screen.get().tab() == to);
        // Each tab its own test id, so tests find it whatever the language.
        view! { <Link nav to class="tab" current>{crate::format::tab_label(i18n.get_locale_untracked(), to)}</Link> }
    };
    view! {
        <nav class="tabs" aria-label=tu_string!(i18n, tabs_label)>
            {TABS.into_iter().map(tab).collect_view()}
        </nav>
    }
}
