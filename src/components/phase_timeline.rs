use koers_core::{Phase, Plan};
use leptos::prelude::*;

use crate::format;
use crate::i18n::*;

/// The five phases as steps, the current one marked, with a plain explanation of where we are
/// (for the child, addressed to them).
#[component]
pub fn PhaseTimeline(plan: Signal<Plan>, youth: Signal<bool>) -> impl IntoView {
    let i18n = use_i18n();
    let current = move || plan.with(|p| p.phase);
    view! {
        <section class="card" aria-labelledby="phase-title">
            <h2 id="phase-title">{tu_string!(i18n, timeline_title)}</h2>
            <ol class="timeline" data-testid="timeline">
                {Phase::ALL.into_iter().map(|phase| view! {
                    <li
                        class:done=move || phase < current()
                        class:current=move || phase == current()
                        aria-current=move || (phase == current()).then_some("step")
                    >
                        <span class="step">{phase.number()}</span>
                        <span class="step-name">{format::phase(i18n.get_locale_untracked(), phase)}</span>
                    </li>
                }).collect_view()}
            </ol>
            <p data-testid="current-phase">
                <strong>{move || format!("{} {}: {}", tu_string!(i18n, phase_word), current().number(), format::phase(i18n.get_locale_untracked(), current()))}</strong>
                " — "
                {move || format::phase_explained(i18n.get_locale_untracked(), current(), youth.get())}
            </p>
        </section>
    }
}
