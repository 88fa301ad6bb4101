//! One goal: what it asks, whose it is, the talk about it, and every change ever made to it.

use koers_core::{
    allowed, permission::action_of, Action, CommentId, Edit, Entity, Field, GoalId, GoalStatus,
    MemberId, Role,
};
use leptos::prelude::*;
use uuid::Uuid;

use crate::components::hide::{hidden_by, HideButton};
use crate::components::history::{History, HistoryToggle};
use crate::components::notice::{save, NoticeBar};
use crate::format;
use crate::i18n::*;
use crate::pages::goals::GoalForm;
use crate::plans::use_plans;
use crate::route::{Link, Nav, Screen};

#[component]
pub fn GoalPage(role: Role, nav: Nav, id: GoalId) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let plan = plans.shown();
    let goal = move || plan.with(|p| p.goal(id).cloned());
    let member = move || plans.member(role);
    let manage = allowed(role, Action::ManageGoals);

    let set_status = move |status: GoalStatus| {
        leptos::task::spawn_local(async move {
            let edits = vec![Edit::new(Entity::Goal(id), Field::Status, status)];
            save(plans, i18n, role, edits, tu_string!(i18n, goal_saved)).await;
        });
    };
    let remove = move |_| {
        leptos::task::spawn_local(async move {
            let edits = vec![Edit::new(Entity::Goal(id), Field::Deleted, true)];
            if save(plans, i18n, role, edits, tu_string!(i18n, goal_removed)).await {
                nav.carry(Screen::Goals);
            }
        });
    };

    move || {
        let Some(g) = goal() else {
            return view! {
                <p>{tu_string!(i18n, goal_not_found)}</p>
                <Link nav to=Screen::Goals class="button wide">{tu_string!(i18n, goals_title)}</Link>
            }
            .into_any();
        };
        let may_tick = member().is_some_and(|m| {
            plan.with_untracked(|p| {
                allowed(
                    role,
                    action_of(p, role, m, &Entity::Goal(id), Field::Status),
                )
            })
        });
        let done = g.status == GoalStatus::Done;
        let intervention = g.intervention.and_then(|i| {
            plan.with_untracked(|p| {
                p.interventions
                    .iter()
                    .find(|x| x.id == i)
                    .map(|x| format::intervention(i18n, x))
            })
        });
        view! {
            <Link nav to=Screen::Goals class="back">{tu_string!(i18n, all_goals)}</Link>
            <h1 data-testid="goal-title">{g.title.clone()}</h1>
            <NoticeBar notice=plans.notice/>
            <section class="card">
                {g.description.clone().map(|d| view! { <p class="pre">{d}</p> })}
                <dl class="facts">
                    <dt>{tu_string!(i18n, goal_owner_label)}</dt>
                    <dd>{format::role(i18n.get_locale_untracked(), g.owner)}</dd>
                    <dt>{tu_string!(i18n, goal_status_label)}</dt>
                    <dd data-testid="goal-status">{format::goal_status(i18n, g.status)}</dd>
                    {g.deadline.map(|d| view! {
                        <dt>{tu_string!(i18n, goal_deadline_label)}</dt>
                        <dd>{format::date(i18n.get_locale_untracked(), d)}</dd>
                    })}
                    {intervention.map(|i| view! {
                        <dt>{tu_string!(i18n, goal_help_label)}</dt>
                        <dd>{i}</dd>
                    })}
                </dl>
                {g.changed_concurrently.then(|| view! {
                    <p class="goal-meta conflict" data-testid="changed-by-two">{tu_string!(i18n, changed_by_two)}</p>
                })}
                {may_tick.then(|| view! {
                    <button class="button primary wide" data-testid="goal-toggle"
                        on:click=move |_| set_status(if done { GoalStatus::Open } else { GoalStatus::Done })>
                        {if done { tu_string!(i18n, goal_reopen) } else { tu_string!(i18n, goal_mark_done) }}
                    </button>
                })}
            </section>
            {manage.then(|| view! {
                <details class="card" data-testid="edit-goal">
                    <summary>{tu_string!(i18n, goal_edit)}</summary>
                    <GoalForm plan role goal=Some(g.clone())/>
                    <button class="button wide danger" on:click=remove data-testid="remove-goal">{tu_string!(i18n, goal_remove)}</button>
                </details>
            })}
            <Comments role goal=id/>
            <History entity=Entity::Goal(id)/>
        }
        .into_any()
    }
}

/// One comment as the screen shows it.
#[derive(Clone)]
struct Said {
    id: CommentId,
    who: String,
    /// None when hidden (the worker sees who hid it instead).
    text: Option<String>,
    own: bool,
    hidden: Option<String>,
}

/// What people said about a goal, and a box to add to it. Only its writer may remove a comment;
/// the worker may hide one (and show it again), and sees where hidden ones were.
#[component]
fn Comments(role: Role, goal: GoalId) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let plan = plans.shown();
    let me = plans.member(role);
    let moderates = allowed(role, Action::HideContribution);
    let comments = move || {
        plan.with(|p| {
            let name = |m: MemberId| {
                p.member_or_former(m)
                    .map(|m| m.name.clone())
                    .unwrap_or_default()
            };
            let mut said: Vec<Said> = p
                .comments
                .iter()
                .filter(|c| c.goal == goal)
                .map(|c| Said {
                    id: c.id,
                    who: name(c.author),
                    text: Some(c.text.clone()),
                    own: Some(c.author) == me,
                    hidden: None,
                })
                .collect();
            // Others do not see that something was hidden; the worker does, and by whom.
            if moderates {
                said.extend(
                    p.hidden_comments
                        .iter()
                        .filter(|c| c.goal == goal)
                        .map(|c| Said {
                            id: c.id,
                            who: name(c.author),
                            text: None,
                            own: Some(c.author) == me,
                            hidden: Some(hidden_by(i18n, p, &c.hiding)),
                        }),
                );
            }
            said
        })
    };
    let remove = move |id: CommentId| {
        leptos::task::spawn_local(async move {
            let edits = vec![Edit::new(Entity::GoalComment(id), Field::Deleted, true)];
            save(plans, i18n, role, edits, tu_string!(i18n, comment_removed)).await;
        });
    };
    let text = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let said = text.get_untracked().trim().to_string();
        if said.is_empty() {
            return;
        }
        let e = Entity::GoalComment(CommentId(Uuid::new_v4()));
        let edits = vec![
            Edit::new(e, Field::Goal, goal),
            Edit::new(e, Field::Text, said),
        ];
        leptos::task::spawn_local(async move {
            if save(plans, i18n, role, edits, tu_string!(i18n, comment_added)).await {
                text.set(String::new());
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="comments-title">
            <h2 id="comments-title">{tu_string!(i18n, comments_title)}</h2>
            <ul class="comments" data-testid="comments">
                {move || comments().into_iter().map(|c| {
                    let e = Entity::GoalComment(c.id);
                    let what = tu_string!(i18n, hidden_comment_of, who = c.who.clone()).to_string();
                    match (c.text, c.hidden) {
                        (Some(text), _) => view! {
                            <li data-testid="comment">
                                <strong>{c.who}</strong>": "<span class="pre">{text}</span>
                                <span class="row">
                                    {c.own.then(|| view! {
                                        <button type="button" class="link" data-testid="remove-comment"
                                            aria-label=format!("{}: {}", tu_string!(i18n, comment_remove), what)
                                            on:click=move |_| remove(c.id)>{tu_string!(i18n, comment_remove)}</button>
                                    })}
                                    {moderates.then(|| view! { <HideButton role entity=e field=Field::Hidden hide=true what=what.clone()/> })}
                                </span>
                                <HistoryToggle entity=e/>
                            </li>
                        }.into_any(),
                        (None, hidden) => view! {
                            <li data-testid="hidden-comment">
                                <span class="muted">{what.clone()}" · "{hidden}</span>
                                <HideButton role entity=e field=Field::Hidden hide=false what=what.clone()/>
                                <HistoryToggle entity=e/>
                            </li>
                        }.into_any(),
                    }
                }).collect_view()}
            </ul>
            {allowed(role, Action::CommentOnGoal).then(|| view! {
                <form class="form" on:submit=submit>
                    <label class="field">
                        <span>{tu_string!(i18n, comment_label)}</span>
                        <textarea rows="2" maxlength="4000" bind:value=text data-testid="comment-text"></textarea>
                    </label>
                    <button type="submit" class="button wide">{tu_string!(i18n, comment_add)}</button>
                </form>
            })}
        </section>
    }
}
