//! Reminders of what comes up: in the app on the home screen, and as system notifications where
//! the user allows them. Each thing is notified once (its key is remembered on the phone).

use gloo_storage::{LocalStorage, Storage};
use koers_core::reminders::reminders;
use koers_core::{Plan, Reminder, Role};
use leptos::prelude::*;
use leptos_i18n::I18nContext;
use wasm_bindgen::JsCast;

use crate::format;
use crate::i18n::*;

const NOTIFIED: &str = "koers.notified";

/// A reminder in words.
pub fn sentence(locale: Locale, r: &Reminder) -> String {
    match r {
        Reminder::ContactSoon { at, kind, .. } => td_string!(
            locale,
            reminder_contact,
            kind = format::contact_kind(locale, *kind),
            when = format::date_time(locale, *at)
        )
        .to_string(),
        Reminder::EvaluationDue { due, days_left } => td_string!(
            locale,
            reminder_evaluation_due,
            date = format::date(locale, *due),
            days = *days_left
        )
        .to_string(),
        Reminder::EvaluationOverdue { days_over, .. } => {
            td_string!(locale, reminder_evaluation_overdue, days = *days_over).to_string()
        }
        Reminder::DeadlineNearing {
            deadline,
            days_left,
        } => td_string!(
            locale,
            reminder_deadline_nearing,
            date = format::date(locale, *deadline),
            days = *days_left
        )
        .to_string(),
        Reminder::DeadlinePassed { days_over, .. } => {
            td_string!(locale, reminder_deadline_passed, days = *days_over).to_string()
        }
    }
}

/// "Binnenkort": what needs attention soon, most urgent first.
#[component]
pub fn Reminders(plan: Signal<Plan>, role: Role) -> impl IntoView {
    let i18n = use_i18n();
    let now = chrono::Local::now().naive_local();
    let list = Memo::new(move |_| plan.with(|p| reminders(p, role, now)));
    // Notify once per thing, where the user allowed notifications.
    Effect::new(move |_| list.with(|l| notify(i18n, l)));
    move || {
        let items = list.get();
        (!items.is_empty()).then(|| view! {
            <section class="card reminders" aria-labelledby="reminders-title">
                <h2 id="reminders-title">{tu_string!(i18n, reminders_title)}</h2>
                <ul data-testid="reminders">
                    {items.iter().map(|r| view! { <li>{sentence(i18n.get_locale_untracked(), r)}</li> }).collect_view()}
                </ul>
            </section>
        })
    }
}

fn permission() -> Option<web_sys::NotificationPermission> {
    // Absent in some browsers (and in iOS Safari outside an installed app).
    js_sys::Reflect::has(&window(), &"Notification".into())
        .unwrap_or(false)
        .then(web_sys::Notification::permission)
}

fn notify(i18n: I18nContext<Locale>, list: &[Reminder]) {
    if permission() != Some(web_sys::NotificationPermission::Granted) {
        return;
    }
    let mut notified: Vec<String> = LocalStorage::get(NOTIFIED).unwrap_or_default();
    let fresh: Vec<&Reminder> = list
        .iter()
        .filter(|r| !notified.contains(&r.key()))
        .collect();
    if fresh.is_empty() {
        return;
    }
    let bodies: Vec<(String, String)> = fresh
        .iter()
        .map(|r| (r.key(), sentence(i18n.get_locale_untracked(), r)))
        .collect();
    notified.extend(bodies.iter().map(|(k, _)| k.clone()));
    // Keep the list short: old keys are about things long past.
    let skip = notified.len().saturating_sub(200);
    let _ = LocalStorage::set(NOTIFIED, &notified[skip..]);
    // Through the service worker: Android's Chrome has no `new Notification()`.
    let ready = window().navigator().service_worker().ready();
    let Ok(ready) = ready else { return };
    leptos::task::spawn_local(async move {
        let Ok(registration) = wasm_bindgen_futures::JsFuture::from(ready).await else {
            return;
        };
        let registration: web_sys::ServiceWorkerRegistration = registration.unchecked_into();
        for (key, body) in bodies {
            let options = web_sys::NotificationOptions::new();
            options.set_body(&body);
            options.set_tag(&key);
            options.set_icon("/icons/icon-192.png");
            let _ = registration.show_notification_with_options("Koers", &options);
        }
    });
}

/// Turns system notifications on (the browser asks the user), or says how they stand.
#[component]
pub fn NotificationSwitch() -> impl IntoView {
    let i18n = use_i18n();
    let state = RwSignal::new(permission());
    let ask = move |_| {
        let Ok(promise) = web_sys::Notification::request_permission() else {
            return;
        };
        leptos::task::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
            state.set(permission());
        });
    };
    view! {
        <section class="card" aria-labelledby="notifications-title">
            <h2 id="notifications-title">{tu_string!(i18n, notifications_title)}</h2>
            <p>{tu_string!(i18n, notifications_intro)}</p>
            {move || match state.get() {
                None => view! { <p class="muted">{tu_string!(i18n, notifications_unsupported)}</p> }.into_any(),
                Some(web_sys::NotificationPermission::Granted) => view! { <p class="ok" data-testid="notifications-on">{tu_string!(i18n, notifications_on)}</p> }.into_any(),
                Some(web_sys::NotificationPermission::Denied) => view! { <p class="muted">{tu_string!(i18n, notifications_denied)}</p> }.into_any(),
                Some(_) => view! { <button class="button wide" on:click=ask data-testid="notifications-ask">{tu_string!(i18n, notifications_ask)}</button> }.into_any(),
            }}
        </section>
    }
}
