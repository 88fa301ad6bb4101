//! The shell: language, role, the plan store, the update banner and the routes.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

use crate::components::update_banner::UpdateBanner;
use crate::i18n::*;
use crate::pages::{choose_role::ChooseRole, home::Home, log_contact::LogContact};
use crate::settings;
use crate::store::{LoadState, PlanStore};

#[component]
pub fn App() -> impl IntoView {
    view! {
        <I18nContextProvider>
            <Shell/>
        </I18nContextProvider>
    }
}

#[component]
fn Shell() -> impl IntoView {
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
    // The static "loading" text in index.html is replaced by the app.
    if let Some(boot) = document().get_element_by_id("boot") {
        boot.remove();
    }
    let role = settings::role();
    let store = PlanStore::open();
    let switch_language = move |_| {
        i18n.set_locale(if i18n.get_locale() == Locale::nl { Locale::en } else { Locale::nl });
    };

    // Texts are plain strings; a language switch redraws the page, so no text needs its own
    // reactive closure (each one costs code in the wasm).
    let page = move || {
        let locale = i18n.get_locale();
        view! {
            <a class="skip" href="#main">{t_string!(i18n, skip_to_content)}</a>
            <header class="topbar">
                <A href="/" attr:class="brand">
                    <img src="/icons/icon.svg" alt="" width="28" height="28"/>
                    <span>"Koers"</span>
                </A>
                // Named in the language it switches to, as people look for their own language.
                <button class="chip" on:click=switch_language lang=if locale == Locale::nl { "en" } else { "nl" }>
                    {t_string!(i18n, other_language)}
                </button>
                {move || role.get().map(|r| view! {
                    <A href="/rol" attr:class="chip" attr:data-testid="current-role">{crate::format::role(i18n, r)}</A>
                })}
            </header>
            <UpdateBanner/>
            <main id="main" tabindex="-1">
                {move || match store.state.get() {
                    LoadState::Loading => view! { <p class="muted" role="status">{t_string!(i18n, loading)}</p> }.into_any(),
                    LoadState::Failed(e) => view! {
                        <div class="alert" role="alert">
                            <p>{t_string!(i18n, storage_unavailable)}</p>
                            <p class="muted">{e.to_string()}</p>
                        </div>
                    }.into_any(),
                    LoadState::Ready => view! {
                        <Routes fallback=move || view! { <p>{t_string!(i18n, not_found)}</p> }>
                            <Route path=path!("/") view=move || view! {
                                <Show when=move || role.get().is_some() fallback=move || view! { <ChooseRole role/> }>
                                    <Home store role/>
                                </Show>
                            }/>
                            <Route path=path!("/rol") view=move || view! { <ChooseRole role/> }/>
                            <Route path=path!("/contact/nieuw") view=move || view! { <LogContact store role/> }/>
                        </Routes>
                    }.into_any(),
                }}
            </main>
        }
    };
    view! { <Router>{page}</Router> }
}
