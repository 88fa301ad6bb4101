use leptos::prelude::*;

use crate::home_top::Timeline;
use crate::i18n::*;

/// The five phases as steps, the current one marked, with a plain explanation of where we are
/// (for the child, addressed to them).
#[component]
pub fn PhaseTimeline(timeline: Memo<Timeline>) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        let t = timeline.get();
        view! {
            <section class="card" aria-labelledby="phase-title">
                <h2 id="phase-title">{tu_string!(i18n, timeline_title)}</h2>
                <ol class="timeline" data-testid="timeline">
                    {t.steps.into_iter().map(|step| view! {
                        <li class=step.class aria-current=(step.class == Some("current")).then_some("step")>
                            <span class="step">{step.number}</span>
                            <span class="step-name">{step.name}</span>
                        </li>
                    }).collect_view()}
                </ol>
                <p data-testid="current-phase">
                    <strong>{t.current}</strong>
                    " — "
                    {t.explained}
                </p>
            </section>
        }
    }
}
