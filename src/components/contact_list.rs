use koers_core::{ContactStatus, Plan};
use leptos::prelude::*;

use crate::format;
use crate::i18n::*;

/// The most recent contact moments, newest first.
#[component]
pub fn RecentContacts(plan: Signal<Plan>) -> impl IntoView {
    let i18n = use_i18n();
    let recent = move || plan.with(|p| p.contact_moments.iter().rev().take(6).cloned().collect::<Vec<_>>());
    view! {
        <section class="card" aria-labelledby="contacts-title">
            <h2 id="contacts-title">{t!(i18n, contact_moments)}</h2>
            <ul class="contacts" data-testid="contact-list">
                <For each=recent key=|c| (c.id, c.status, c.note.clone(), c.at) let:c>
                    <li class="contact">
                        <span class="contact-face" aria-hidden="true">
                            {c.rating.map(|r| format::rating_face(r.get())).unwrap_or("·")}
                        </span>
                        <span class="contact-body">
                            <span class="contact-head">
                                {move || format!("{} · {}", format::contact_kind(i18n, c.kind), format::date_time(i18n.get_locale(), c.at))}
                            </span>
                            <span class="contact-status">{move || match c.status {
                                ContactStatus::Planned => t_string!(i18n, status_planned),
                                ContactStatus::Happened => t_string!(i18n, status_happened),
                                ContactStatus::Cancelled => t_string!(i18n, status_cancelled),
                                ContactStatus::NoShow => t_string!(i18n, status_no_show),
                            }}
                            {c.rating.map(|r| view! { " · " {move || format::rating(i18n, r.get())} })}
                            {c.duration_minutes.map(|m| view! { " · " {move || t_string!(i18n, minutes, count = m).to_string()} })}
                            </span>
                            {c.note.clone().or(c.cancel_reason.clone()).map(|n| view! { <span class="contact-note">{n}</span> })}
                        </span>
                    </li>
                </For>
            </ul>
        </section>
    }
}
