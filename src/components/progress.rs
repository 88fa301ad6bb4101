use koers_core::{GoalStatus, Plan, Role};
use leptos::prelude::*;

use crate::format;
use crate::i18n::*;

/// Goals done per party: everyone sees the same truth about who is where.
#[component]
pub fn ProgressPerParty(plan: Signal<Plan>) -> impl IntoView {
    let i18n = use_i18n();
    let rows = move || {
        plan.with(|p| {
            Role::ALL
                .into_iter()
                .filter_map(|r| {
                    let total = p.goals_of(r).count();
                    let done = p
                        .goals_of(r)
                        .filter(|g| g.status == GoalStatus::Done)
                        .count();
                    (total > 0).then_some((r, done, total))
                })
                .collect::<Vec<_>>()
        })
    };
    // Nothing to show before the first goals are drawn up.
    move || {
        (!rows().is_empty()).then(|| view! {
            <section class="card" aria-labelledby="progress-title">
                <h2 id="progress-title">{tu_string!(i18n, progress_title)}</h2>
                <ul class="progress" data-testid="progress">
                    {rows().into_iter().map(|row| view! {
                        <li data-role=row.0.key()>
                            <span>{format::role(i18n.get_locale_untracked(), row.0)}</span>
                            <span class="muted">{tu_string!(i18n, goals_done, done = row.1, total = row.2).to_string()}</span>
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        })
    }
}
