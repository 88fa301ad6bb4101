use chrono::NaiveDate;
use koers_core::rules::{self, Deadline};
use koers_core::Plan;
use leptos::prelude::*;

use crate::format;
use crate::i18n::*;

/// Days left until the perspective must be decided (one year after the start).
#[component]
pub fn DeadlineCard(plan: Signal<Plan>, today: NaiveDate) -> impl IntoView {
    let i18n = use_i18n();
    let state = move || plan.with(|p| rules::deadline(p, today));
    let date = move || {
        plan.with(rules::perspective_deadline)
            .map(|d| format::date(i18n.get_locale_untracked(), d))
            .unwrap_or_default()
    };
    view! {
        <section class="card deadline" data-testid="deadline"
            class:warn=move || matches!(state(), Some(Deadline::Nearing { .. }))
            class:overdue=move || matches!(state(), Some(Deadline::Passed { .. }))>
            {move || match state() {
                Some(Deadline::OnTrack { days_left } | Deadline::Nearing { days_left }) => view! {
                    <p class="big"><span data-testid="days-left">{days_left}</span>" "{tu_string!(i18n, days_left_unit)}</p>
                    <p>{tu_string!(i18n, days_left_until, date = date()).to_string()}</p>
                }.into_any(),
                Some(Deadline::Passed { days_over }) => view! {
                    <p class="big">{tu_string!(i18n, deadline_passed, days = days_over).to_string()}</p>
                }.into_any(),
                Some(Deadline::Decided) => view! { <p>{tu_string!(i18n, deadline_decided)}</p> }.into_any(),
                None => view! { <p class="muted">{tu_string!(i18n, deadline_unknown)}</p> }.into_any(),
            }}
        </section>
    }
}
