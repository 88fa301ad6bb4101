use koers_core::Plan;
use leptos::prelude::*;

use crate::components::face::Face;
use crate::format;
use crate::i18n::*;

/// The most recent contact moments, newest first.
#[component]
pub fn RecentContacts(plan: Signal<Plan>) -> impl IntoView {
    let i18n = use_i18n();
    let recent = move || {
        plan.with(|p| {
            p.contact_moments
                .iter()
                .rev()
                .take(6)
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <section class="card" aria-labelledby="contacts-title">
            <h2 id="contacts-title">{tu_string!(i18n, contact_moments)}</h2>
            {move || plan.with(|p| p.contact_moments.is_empty()).then(|| view! { <p class="muted">{tu_string!(i18n, no_contacts)}</p> })}
            <ul class="contacts" data-testid="contact-list">
                <For each=recent key=|c| (c.id, c.status, c.note.clone(), c.at, c.changed_concurrently) let:c>
                    <li class="contact">
                        <span class="contact-face">
                            {c.rating.map(|r| view! { <Face rating=r.get()/> })}
                        </span>
                        <span class="contact-body">
                            <span class="contact-head">
                                {format!("{} · {}", format::contact_kind(i18n.get_locale_untracked(), c.kind), format::date_time(i18n.get_locale_untracked(), c.at))}
                            </span>
                            <span class="contact-status">{format::contact_status(i18n, c.status)}
                            {c.rating.map(|r| view! { " · " {format::rating(i18n, r.get())} })}
                            {c.duration_minutes.map(|m| view! { " · " {tu_string!(i18n, minutes, count = m).to_string()} })}
                            </span>
                            {c.note.clone().or(c.cancel_reason.clone()).map(|n| view! { <span class="contact-note">{n}</span> })}
                            {c.changed_concurrently.then(|| view! {
                                <span class="goal-meta conflict" data-testid="changed-by-two">{tu_string!(i18n, changed_by_two)}</span>
                            })}
                        </span>
                    </li>
                </For>
            </ul>
        </section>
    }
}
