//! Reminders of what comes up as system notifications, where the user allows them (home lists
//! them too: `home_top.rs`). Each thing is notified once (its key is remembered on the phone).

use gloo_storage::{LocalStorage, Storage};
use koers_core::Reminder;
use leptos::prelude::*;
use leptos_i18n::I18nContext;
use wasm_bindgen::JsCast;

use crate::address::Screen;
use crate::format;
use crate::i18n::*;
use crate::plans::PlanEntry;

const NOTIFIED: &str = "koers.notified";

fn permission() -> Option<web_sys::NotificationPermission> {
    // Absent in some browsers (and in iOS Safari outside an installed app).
    js_sys::Reflect::has(&window(), &"Notification".into())
        .unwrap_or(false)
        .then(web_sys::Notification::permission)
}

/// Notifies what comes up in every plan on this phone, once per thing, where the user allowed
/// notifications: each names its child, and tapping it opens that plan's screen for it. Read
/// from each plan's overview (`plans::Overview`), so no plan is replayed for it.
pub fn notify_all(i18n: I18nContext<Locale>, plans: &[PlanEntry]) {
    if permission() != Some(web_sys::NotificationPermission::Granted) {
        return;
    }
    let now = chrono::Local::now().naive_local();
    let locale = i18n.get_locale_untracked();
    let mut notified: Vec<String> = LocalStorage::get(NOTIFIED).unwrap_or_default();
    let mut fresh = Vec::new();
    for entry in plans {
        let Some(overview) = &entry.overview else {
            continue;
        };
        let summary = &overview.summary;
        for r in summary.reminders(now) {
            // Two plans can have an evaluation due on the same day: the plan is in the key.
            let key = format!("{}:{}", summary.plan, r.key());
            if notified.contains(&key) {
                continue;
            }
            let screen = match r {
                Reminder::ContactSoon { .. } => Screen::Contacts,
                Reminder::EvaluationDue { .. } | Reminder::EvaluationOverdue { .. } => {
                    Screen::Evaluations
                }
                Reminder::DeadlineNearing { .. } | Reminder::DeadlinePassed { .. } => {
                    Screen::Phases
                }
            };
            let title = td_string!(locale, plan_of, child = &summary.child_name).to_string();
            let url = screen.path_in(Some(summary.plan));
            fresh.push((key, title, format::reminder(locale, &r), url));
        }
    }
    if fresh.is_empty() {
        return;
    }
    notified.extend(fresh.iter().map(|(k, ..)| k.clone()));
    // Keep the list short: old keys are about things long past.
    let skip = notified.len().saturating_sub(500);
    let _ = LocalStorage::set(NOTIFIED, &notified[skip..]);
    // Through the service worker: Android's Chrome has no `new Notification()`.
    let ready = window().navigator().service_worker().ready();
    let Ok(ready) = ready else { return };
    leptos::task::spawn_local(async move {
        let Ok(registration) = wasm_bindgen_futures::JsFuture::from(ready).await else {
            return;
        };
        let registration: web_sys::ServiceWorkerRegistration = registration.unchecked_into();
        for (key, title, body, url) in fresh {
            let options = web_sys::NotificationOptions::new();
            options.set_body(&body);
            options.set_tag(&key);
            options.set_icon("/icons/icon-192.png");
            // The service worker opens this address when the notification is tapped.
            options.set_data(&wasm_bindgen::JsValue::from_str(&url));
            let _ =
                registration.show_notification_with_options(&format!("Koers · {title}"), &options);
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
