//! `/inschrijven#<code>`: a professional opens the link their administrator sent (or the first
//! administrator's link the server printed), makes a passkey on this phone and is signed in.

use leptos::prelude::*;

use crate::accounts::{self, Enrolment};
use crate::format;
use crate::i18n::*;
use crate::passkey;
use crate::professional::{use_professional, SignedIn};
use crate::route::{Link, Nav, Screen};

#[derive(Clone, PartialEq)]
enum Stage {
    Opening,
    /// Whom the link is for, with a ceremony to make the passkey.
    Ready(Enrolment),
    /// Enrolled as an administrator: the next step is theirs to choose.
    Done(SignedIn),
}

#[component]
pub fn Enrol(nav: Nav) -> impl IntoView {
    let i18n = use_i18n();
    let professional = use_professional();
    let stage = RwSignal::new(Stage::Opening);
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    // When the ceremony came: the server keeps it five minutes.
    let opened_at = StoredValue::new(0.0);
    // The code travels in the fragment, so it never reaches a server log.
    let code = window()
        .location()
        .hash()
        .unwrap_or_default()
        .trim_start_matches('#')
        .to_string();
    // Opens the link: whom it is for, and a fresh ceremony (each is answered once and lasts five
    // minutes, so a failed attempt opens it again).
    let open = move |code: String| {
        leptos::task::spawn_local(async move {
            if code.is_empty() {
                problem.set(Some(tu_string!(i18n, enrol_unknown).to_string()));
                return;
            }
            match accounts::start_enrolment(&code).await {
                Ok(enrolment) => {
                    opened_at.set_value(js_sys::Date::now());
                    stage.set(Stage::Ready(enrolment));
                }
                Err(e) => problem.set(Some(format::account_problem(i18n, &e))),
            }
        })
    };
    open(code.clone());

    let create = move |_| {
        let Stage::Ready(mut enrolment) = stage.get_untracked() else {
            return;
        };
        busy.set(true);
        problem.set(None);
        let code = code.clone();
        let stale = js_sys::Date::now() - opened_at.get_value() >= accounts::FRESH_FOR;
        leptos::task::spawn_local(async move {
            // Left open a long time: a fresh ceremony first.
            if stale {
                match accounts::start_enrolment(&code).await {
                    Ok(fresh) => {
                        opened_at.set_value(js_sys::Date::now());
                        enrolment = fresh;
                    }
                    Err(e) => {
                        problem.set(Some(format::account_problem(i18n, &e)));
                        busy.set(false);
                        return;
                    }
                }
            }
            let ceremony = &enrolment.ceremony;
            let credential = match passkey::create(ceremony.public_key()).await {
                Ok(credential) => credential,
                Err(e) => {
                    // Cancelled: the same ceremony can be tried again.
                    problem.set(Some(format::passkey_problem(i18n, &e)));
                    busy.set(false);
                    return;
                }
            };
            let done = match accounts::finish_enrolment(&ceremony.ceremony, &credential).await {
                Ok(opened) => professional
                    .keep(opened)
                    .await
                    .map_err(|e| format::account_problem(i18n, &e)),
                Err(e) => {
                    open(code);
                    Err(format::account_problem(i18n, &e))
                }
            };
            busy.set(false);
            match done {
                Ok(signed_in) if signed_in.account.admin => stage.set(Stage::Done(signed_in)),
                Ok(_) => nav.go(Screen::Caseload),
                Err(text) => problem.set(Some(text)),
            }
        });
    };

    view! {
        <section class="card" aria-labelledby="enrol-title">
            <h1 id="enrol-title">{tu_string!(i18n, enrol_title)}</h1>
            {move || match stage.get() {
                Stage::Opening => problem.with(Option::is_none).then(|| view! {
                    <p role="status">{tu_string!(i18n, enrol_opening)}</p>
                }).into_any(),
                Stage::Ready(e) => view! {
                    <p data-testid="enrol-for">{tu_string!(i18n, enrol_for, name = e.name.clone(), organisation = e.organisation.name().to_string()).to_string()}</p>
                    {e.admin.then(|| view! { <p>{tu_string!(i18n, enrol_for_admin)}</p> })}
                    <p>{tu_string!(i18n, enrol_intro)}</p>
                    <button type="button" class="button primary wide" disabled=busy on:click=create.clone() data-testid="enrol-passkey">
                        {tu_string!(i18n, enrol_button)}
                    </button>
                }.into_any(),
                Stage::Done(s) => view! {
                    <p class="confirm" role="status" data-testid="enrol-done">
                        {tu_string!(i18n, enrol_done, name = s.account.name.clone(), organisation = s.account.organisation.name.clone()).to_string()}
                    </p>
                    <Link nav to=Screen::Admin class="button primary wide" testid="admin-link">{tu_string!(i18n, admin_title)}</Link>
                    <Link nav to=Screen::Caseload class="button wide" testid="caseload-link">{tu_string!(i18n, caseload_title)}</Link>
                }.into_any(),
            }}
            {move || problem.get().map(|p| view! {
                <p class="alert" role="alert" data-testid="enrol-problem">{p}</p>
                // A used link, or a passkey on this phone already: signing in is the way on.
                <Link nav to=Screen::SignIn class="button wide" testid="sign-in-link">{tu_string!(i18n, pro_sign_in_title)}</Link>
            })}
        </section>
    }
}
