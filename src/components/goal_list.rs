use koers_core::{Edit, Entity, Field, GoalStatus, Plan, Role};
use leptos::prelude::*;

use crate::format;
use crate::format::explain;
use crate::i18n::*;
use crate::plans::{use_plans, Notice};

/// "Mijn doelen": the goals the chosen role owns, by priority, each ticked off in one tap.
#[component]
pub fn MyGoals(plan: Signal<Plan>, role: Role) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let goals = move || plan.with(|p| p.goals_of(role).cloned().collect::<Vec<_>>());
    let done = move || {
        goals()
            .iter()
            .filter(|g| g.status == GoalStatus::Done)
            .count()
    };
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
            <p class="muted" data-testid="goal-progress">
                {move || tu_string!(i18n, goals_done, done = done(), total = goals().len()).to_string()}
            </p>
            <Show when=move || !goals().is_empty() fallback=move || view! { <p>{tu_string!(i18n, no_goals)}</p> }>
                <ul class="goals" data-testid="my-goals">
                    <For each=goals key=|g| (g.id, g.status, g.title.clone(), g.changed_concurrently) let:goal>
                        <li class="goal" class:is-done=goal.status == GoalStatus::Done>
                            <label>
                                <input type="checkbox" data-goal=goal.id.0.to_string()
                                    prop:checked=goal.status == GoalStatus::Done
                                    on:change=move |ev| toggle(goal.id, event_target(&ev))/>
                                <span class="goal-text">
                                    <span class="goal-title">{goal.title.clone()}</span>
                                    {goal.description.clone().map(|d| view! { <span class="goal-desc">{d}</span> })}
                                    {goal.changed_concurrently.then(|| view! {
                                        <span class="goal-meta conflict" data-testid="changed-by-two">{tu_string!(i18n, changed_by_two)}</span>
                                    })}
                                    {goal.deadline.map(|d| view! {
                                        <span class="goal-meta">{tu_string!(i18n, goal_deadline, date = format::date(i18n.get_locale_untracked(), d)).to_string()}</span>
                                    })}
                                </span>
                            </label>
                        </li>
                    </For>
                </ul>
            </Show>
        </section>
    }
}
