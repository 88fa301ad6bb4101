//! All goals of the plan, by priority: whose each one is and how far it is. The guardian and the
//! worker add goals and put them in order.

use koers_core::{
    allowed, plan::Goal, reorder, Action, Edit, Entity, Field, GoalId, GoalStatus, InterventionId,
    Plan, Role,
};
use leptos::prelude::*;
use uuid::Uuid;

use crate::components::notice::{save, NoticeBar};
use crate::format;
use crate::forms::{optional_date, optional_text};
use crate::i18n::*;
use crate::plans::use_plans;
use crate::route::{Link, Nav, Screen};

#[component]
pub fn Goals(role: Role, nav: Nav) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let plan = plans.shown();
    let manage = allowed(role, Action::ManageGoals);
    let rows = move || {
        plan.with(|p| {
            let last = p.goals.len().saturating_sub(1);
            p.goals
                .iter()
                .enumerate()
                .map(|(i, g)| (g.clone(), i == 0, i == last))
                .collect::<Vec<_>>()
        })
    };
    // One move at a time: each is computed from the order the previous one left.
    let moving = StoredValue::new(false);
    let shift = move |goal: GoalId, up: bool| {
        let edits = plan.with_untracked(|p| reorder::move_goal(p, goal, up));
        if edits.is_empty() || moving.get_value() {
            return;
        }
        moving.set_value(true);
        leptos::task::spawn_local(async move {
            save(plans, i18n, role, edits, tu_string!(i18n, goal_order_saved)).await;
            moving.set_value(false);
        });
    };
    view! {
        <h1>{tu_string!(i18n, goals_title)}</h1>
        <p class="muted">{tu_string!(i18n, goals_intro)}</p>
        <NoticeBar notice=plans.notice/>
        {manage.then(|| view! {
            <details class="card" data-testid="new-goal">
                <summary>{tu_string!(i18n, goal_new)}</summary>
                <GoalForm plan role goal=None/>
            </details>
        })}
        <ol class="goals all-goals" data-testid="all-goals">
            {move || rows().into_iter().map(|(goal, first, last)| {
                    let (id, title) = (goal.id, goal.title.clone());
                    let meta = format!("{} · {}", format::role(i18n.get_locale_untracked(), goal.owner), format::goal_status(i18n, goal.status));
                    view! {
                        <li class="goal goal-row" class:is-done=goal.status == GoalStatus::Done>
                            <Link nav to=Screen::Goal(id) class="goal-link">
                                <span class="goal-title">{goal.title.clone()}</span>
                                <span class="goal-meta">{meta.clone()}</span>
                            </Link>
                            {manage.then(|| view! {
                                <span class="order">
                                    <button class="icon" disabled=first on:click=move |_| shift(id, true)
                                        aria-label=tu_string!(i18n, goal_move_up, goal = title.clone()).to_string()>"↑"</button>
                                    <button class="icon" disabled=last on:click=move |_| shift(id, false)
                                        aria-label=tu_string!(i18n, goal_move_down, goal = title.clone()).to_string()>"↓"</button>
                                </span>
                            })}
                        </li>
                    }
                }).collect_view()}
        </ol>
    }
}

/// A new goal, or changes to one: title, explanation, whose it is, when it should be done, and
/// the help that goes with it. Only fields that changed are written, so history shows real changes.
#[component]
pub fn GoalForm(plan: Signal<Plan>, role: Role, goal: Option<Goal>) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let g = goal.clone();
    let title = RwSignal::new(g.as_ref().map(|g| g.title.clone()).unwrap_or_default());
    let description = RwSignal::new(
        g.as_ref()
            .and_then(|g| g.description.clone())
            .unwrap_or_default(),
    );
    let owner = RwSignal::new(g.as_ref().map_or(Role::Parent, |g| g.owner));
    let deadline = RwSignal::new(
        g.as_ref()
            .and_then(|g| g.deadline)
            .map(|d| d.to_string())
            .unwrap_or_default(),
    );
    let help = RwSignal::new(
        g.as_ref()
            .and_then(|g| g.intervention)
            .map(|i| i.0.to_string())
            .unwrap_or_default(),
    );
    let form_error = RwSignal::new(None::<&'static str>);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = title.get_untracked().trim().to_string();
        if text.is_empty() {
            form_error.set(Some(tu_string!(i18n, error_goal_title)));
            return;
        }
        let Ok(due) = optional_date(deadline) else {
            form_error.set(Some(tu_string!(i18n, error_date)));
            return;
        };
        form_error.set(None);
        let desc = optional_text(description);
        let help_id = help
            .get_untracked()
            .parse::<Uuid>()
            .ok()
            .map(InterventionId);
        let was = goal.as_ref();
        let id = was.map_or_else(|| GoalId(Uuid::new_v4()), |g| g.id);
        let e = Entity::Goal(id);
        let mut edits = Vec::new();
        if was.map(|g| &g.title) != Some(&text) {
            edits.push(Edit::new(e, Field::Title, &text));
        }
        if was.map(|g| &g.description) != Some(&desc) {
            edits.push(Edit::new(e, Field::Description, &desc));
        }
        if was.map(|g| g.owner) != Some(owner.get_untracked()) {
            edits.push(Edit::new(e, Field::Owner, owner.get_untracked()));
        }
        if was.map(|g| g.deadline) != Some(due) {
            edits.push(Edit::new(e, Field::Deadline, due));
        }
        if was.map(|g| g.intervention) != Some(help_id) {
            edits.push(Edit::new(e, Field::Intervention, help_id));
        }
        if was.is_none() {
            let priority = plan.with_untracked(reorder::next_priority);
            edits.push(Edit::new(e, Field::Priority, priority));
            edits.push(Edit::new(e, Field::Status, GoalStatus::Open));
        }
        if edits.is_empty() {
            return;
        }
        let is_new = was.is_none();
        leptos::task::spawn_local(async move {
            let done = if is_new {
                tu_string!(i18n, goal_added)
            } else {
                tu_string!(i18n, goal_saved)
            };
            if save(plans, i18n, role, edits, done).await && is_new {
                title.set(String::new());
                description.set(String::new());
                deadline.set(String::new());
            }
        });
    };

    view! {
        <form class="form" novalidate on:submit=submit data-testid="goal-form">
            <label class="field">
                <span>{tu_string!(i18n, goal_title_label)}</span>
                <input type="text" required maxlength="4000" bind:value=title/>
            </label>
            <label class="field">
                <span>{tu_string!(i18n, goal_description_label)}</span>
                <textarea rows="3" maxlength="4000" bind:value=description></textarea>
            </label>
            <label class="field">
                <span>{tu_string!(i18n, goal_owner_label)}</span>
                <select on:change=move |ev| owner.set(Role::from_key(&event_target_value(&ev)).unwrap_or(Role::Parent))>
                    {Role::ALL.into_iter().map(|r| view! {
                        <option value=r.key() selected=move || owner.get() == r>{format::role(i18n.get_locale_untracked(), r)}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="field">
                <span>{tu_string!(i18n, goal_deadline_label)}</span>
                <input type="date" bind:value=deadline/>
            </label>
            <label class="field">
                <span>{tu_string!(i18n, goal_help_label)}</span>
                <select on:change=move |ev| help.set(event_target_value(&ev))>
                    <option value="" selected=move || help.with(String::is_empty)>"—"</option>
                    {move || plan.with(|p| p.interventions.iter().map(|i| {
                        let key = i.id.0.to_string();
                        let chosen = key.clone();
                        view! { <option value=key selected=move || help.with(|h| *h == chosen)>{format::intervention(i18n, i)}</option> }
                    }).collect_view())}
                </select>
            </label>
            {move || form_error.get().map(|e| view! { <p class="alert" role="alert">{e}</p> })}
            <button type="submit" class="button primary wide">{tu_string!(i18n, save)}</button>
        </form>
    }
}
