use koers_core::{Edit, Entity, Field, GoalStatus, Role};
use leptos::prelude::*;

use crate::format::explain;
use crate::home_top::GoalsCard;
use crate::i18n::*;
use crate::plans::{use_plans, Notice};

/// "Mijn doelen": the goals `role` owns, by priority (see [`GoalsCard`]), each ticked off in one
/// tap. Rows are keyed by all they show: a tick redraws the one goal it changed.
#[component]
pub fn MyGoals(role: Role, goals: Memo<GoalsCard>) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let toggle = move |goal: koers_core::GoalId, checkbox: web_sys::HtmlInputElement| {
        let now_done = checkbox.checked();
        let status = if now_done {
            GoalStatus::Done
        } else {
            GoalStatus::Open
        };
        leptos::task::spawn_local(async move {
            let result = plans
                .change(
                    role,
                    vec![Edit::new(Entity::Goal(goal), Field::Status, status)],
                )
                .await;
            if result.is_err() {
                // Nothing was stored: the box shows the truth again.
                checkbox.set_checked(!now_done);
            }
            plans.notice.set(result.err().map(|e| Notice {
                text: explain(i18n.get_locale_untracked(), &e),
                is_error: true,
            }));
        });
    };
    view! {
        <section class="card" aria-labelledby="goals-title">
            <h2 id="goals-title">{tu_string!(i18n, my_goals)}</h2>
            <p class="muted" data-testid="goal-progress">{move || goals.with(|g| g.progress.clone())}</p>
            {move || goals.with(|g| g.empty).map(|empty| view! { <p>{empty}</p> })}
            <Show when=move || goals.with(|g| g.empty.is_none())>
                <ul class="goals" data-testid="my-goals">
                    <For each=move || goals.with(|g| g.rows.clone()) key=|row| row.clone() let:goal>
                        <li class=if goal.done { "goal is-done" } else { "goal" }>
                            <label>
                                <input type="checkbox" data-goal=goal.id.0.to_string()
                                    prop:checked=goal.done
                                    on:change=move |ev| toggle(goal.id, event_target(&ev))/>
                                <span class="goal-text">
                                    <span class="goal-title">{goal.title}</span>
                                    {goal.description.map(|d| view! { <span class="goal-desc">{d}</span> })}
                                    {goal.changed_by_two.map(|words| view! {
                                        <span class="goal-meta conflict" data-testid="changed-by-two">{words}</span>
                                    })}
                                    {goal.deadline.map(|d| view! { <span class="goal-meta">{d}</span> })}
                                </span>
                            </label>
                        </li>
                    </For>
                </ul>
            </Show>
        </section>
    }
}
