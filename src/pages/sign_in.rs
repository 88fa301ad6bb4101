//! `/aanmelden`: a professional signs in with a passkey, and every plan they work on comes to
//! this phone; then "Mijn gezinnen".

use leptos::prelude::*;

use crate::accounts::{self, Ceremony};
use crate::format;
use crate::i18n::*;
use crate::passkey;
use crate::professional::use_professional;
use crate::route::{Nav, Screen};

#[component]
pub fn SignIn(nav: Nav) -> impl IntoView {
    let i18n = use_i18n();
    let professional = use_professional();
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    // Plans brought to the phone so far, of how many.
    let progress = RwSignal::new(None::<(usize, usize)>);
    // Fetched before the tap: some browsers only open the passkey prompt straight from the tap.
    // With when it came: the server keeps a ceremony five minutes.
    let prepared = StoredValue::new(None::<(Ceremony, f64)>);
    let prepare = move || {
        leptos::task::spawn_local(async move {
            if let Ok(ceremony) = accounts::start_session().await {
                prepared.set_value(Some((ceremony, js_sys::Date::now())));
            }
        })
    };

    let bring = move || {
        busy.set(true);
        problem.set(None);
        leptos::task::spawn_local(async move {
            let result = professional
                .bring_caseload(move |done, of| progress.set(Some((done, of))))
                .await;
            progress.set(None);
            busy.set(false);
            match result {
                Ok(_) => nav.go(Screen::Caseload),
                Err(e) => problem.set(Some(format!(
                    "{} {}",
                    tu_string!(i18n, pro_bring_failed),
                    format::account_problem(i18n, &e)
                ))),
            }
        });
    };
    let sign_in = move |_| {
        busy.set(true);
        problem.set(None);
        let ready = prepared
            .try_update_value(Option::take)
            .flatten()
            .filter(|(_, at)| js_sys::Date::now() - at < accounts::FRESH_FOR)
            .map(|(ceremony, _)| ceremony);
        leptos::task::spawn_local(async move {
            let ceremony = match ready {
                Some(c) => Ok(c),
                None => accounts::start_session().await,
            };
            let credential = match ceremony {
                Ok(c) => passkey::get(c.public_key())
                    .await
                    .map(|credential| (c, credential))
                    .map_err(|e| format::passkey_problem(i18n, &e)),
                Err(e) => Err(format::account_problem(i18n, &e)),
            };
            let opened = match credential {
                Ok((c, credential)) => accounts::finish_session(&c.ceremony, &credential)
                    .await
                    .map_err(|e| format::account_problem(i18n, &e)),
                Err(text) => Err(text),
            };
            match opened {
                Ok(opened) => match professional.keep(opened).await {
                    Ok(_) => return bring(),
                    Err(e) => problem.set(Some(format::account_problem(i18n, &e))),
                },
                Err(text) => problem.set(Some(text)),
            }
            busy.set(false);
            // Each ceremony is answered once: the next attempt gets a fresh one.
            prepare();
        });
    };
    // `None` until the phone's session was read.
    let signed_in = Memo::new(move |_| {
        professional.read.get().then(|| {
            professional.signed_in.with(|s| {
                s.as_ref()
                    .map(|s| (s.account.name.clone(), s.account.organisation.name.clone()))
            })
        })
    });

    // Only for someone who is to sign in (not known before the phone's session was read).
    Effect::new(move |prepared_once: Option<bool>| {
        let now = prepared_once.unwrap_or(false) || signed_in.get() == Some(None);
        if now && prepared_once != Some(true) {
            prepare();
        }
        now
    });

    view! {
        <section class="card" aria-labelledby="sign-in-title">
            <h1 id="sign-in-title">{tu_string!(i18n, pro_sign_in_title)}</h1>
            {move || match signed_in.get() {
                // Signed in already: bring what is missing (say, after a failed first time).
                None => view! { <p class="muted" role="status">{tu_string!(i18n, screen_loading)}</p> }.into_any(),
                Some(Some((name, organisation))) => view! {
                    <p data-testid="signed-in-account">{tu_string!(i18n, pro_signed_in_as, name = name, organisation = organisation).to_string()}</p>
                    <button type="button" class="button primary wide" disabled=busy data-testid="sign-in-bring"
                        on:click=move |_| bring()>
                        {tu_string!(i18n, caseload_title)}
                    </button>
                }.into_any(),
                Some(None) => view! {
                    <p>{tu_string!(i18n, pro_sign_in_intro)}</p>
                    <button type="button" class="button primary wide" disabled=busy data-testid="sign-in-passkey"
                        on:click=sign_in>
                        {tu_string!(i18n, pro_sign_in_button)}
                    </button>
                    <p class="muted">{tu_string!(i18n, pro_no_account_hint)}</p>
                }.into_any(),
            }}
            {move || progress.get().map(|(done, of)| {
                let text = tu_string!(i18n, pro_bringing, done = done, total = of).to_string();
                view! {
                    <p role="status" data-testid="sign-in-progress">{text.clone()}</p>
                    <progress max=of.max(1) value=done aria-label=text></progress>
                }
            })}
            {move || (busy.get() && progress.with(Option::is_none)).then(|| view! {
                <p class="muted" role="status">{tu_string!(i18n, pro_signing_in)}</p>
            })}
            {move || problem.get().map(|p| view! { <p class="alert" role="alert" data-testid="sign-in-problem">{p}</p> })}
        </section>
    }
}
