//! Safety, development and wellbeing, scored 0–10 at least every three months: when the next one
//! is due, how the scores went over time, and a form to record one.

use chrono::NaiveDate;
use koers_core::plan::Evaluation;
use koers_core::rules;
use koers_core::{allowed, Action, Edit, Entity, EvaluationId, Field, Role, Score};
use leptos::prelude::*;
use uuid::Uuid;

use crate::components::hide::{hidden_by, HideButton};
use crate::components::history::HistoryToggle;
use crate::components::notice::{save, NoticeBar};
use crate::components::own_view::OwnView;
use crate::format;
use crate::forms::optional_text;
use crate::i18n::*;
use crate::plans::use_plans;

#[component]
pub fn Evaluations(role: Role) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let plan = plans.shown();
    let today = chrono::Local::now().date_naive();
    let due = move || {
        plan.with(|p| {
            (
                rules::next_evaluation_due(p),
                rules::evaluation_overdue(p, today),
            )
        })
    };
    let list = move || plan.with(|p| p.evaluations.iter().rev().cloned().collect::<Vec<_>>());
    view! {
        <h1>{tu_string!(i18n, evaluations_title)}</h1>
        <p class="muted" data-testid="evaluations-intro">{if role == Role::Youth {
            tu_string!(i18n, evaluations_intro_youth)
        } else {
            tu_string!(i18n, evaluations_intro)
        }}</p>
        <NoticeBar notice=plans.notice/>
        {move || due().0.map(|date| {
            let overdue = due().1;
            let text = if overdue {
                tu_string!(i18n, evaluation_overdue, date = format::date(i18n.get_locale_untracked(), date))
            } else {
                tu_string!(i18n, evaluation_due, date = format::date(i18n.get_locale_untracked(), date))
            };
            view! { <p class=if overdue { "alert" } else { "card" } data-testid="evaluation-due">{text.to_string()}</p> }
        })}
        <Trend evaluations=Signal::derive(move || plan.with(|p| p.evaluations.clone()))/>
        {allowed(role, Action::RecordEvaluation).then(|| view! {
            <details class="card" data-testid="new-evaluation">
                <summary>{tu_string!(i18n, evaluation_new)}</summary>
                <EvaluationForm role/>
            </details>
        })}
        <ul class="evaluations" data-testid="evaluation-list">
            {move || list().into_iter().map(|e| view! { <EvaluationCard role e/> }).collect_view()}
        </ul>
    }
}

#[component]
fn EvaluationCard(role: Role, e: Evaluation) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let entity = Entity::Evaluation(e.id);
    let moderates = allowed(role, Action::HideContribution);
    let me = plans.member(role);
    let own = e.youth_view_hidden.is_none() && e.youth_view_writer.is_none_or(|w| Some(w) == me);
    let score = |s: Option<Score>| s.map_or_else(|| "—".to_string(), |s| s.get().to_string());
    let who = e
        .participants
        .iter()
        .map(|r| format::role(i18n.get_locale_untracked(), *r))
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <li class="card evaluation">
            <h2>{format::date(i18n.get_locale_untracked(), e.date)}</h2>
            <dl class="scores">
                <div><dt>{tu_string!(i18n, score_safety)}</dt><dd>{score(e.safety)}</dd></div>
                <div><dt>{tu_string!(i18n, score_development)}</dt><dd>{score(e.development)}</dd></div>
                <div><dt>{tu_string!(i18n, score_wellbeing)}</dt><dd>{score(e.wellbeing)}</dd></div>
            </dl>
            {e.big_change.clone().map(|c| view! { <p><strong>{tu_string!(i18n, big_change_label)}": "</strong>{c}</p> })}
            {(!who.is_empty()).then(|| view! { <p class="muted">{tu_string!(i18n, took_part, who = who.clone()).to_string()}</p> })}
            {e.child_took_part.then(|| view! { <p class="muted">{tu_string!(i18n, child_took_part)}</p> })}
            {e.note.clone().map(|n| view! { <p class="pre">{n}</p> })}
            {e.youth_view.clone().map(|v| view! {
                <p class="pre" data-testid="view"><strong>{tu_string!(i18n, youth_view_label)}": "</strong>{v}</p>
                {moderates.then(|| view! { <HideButton role entity field=Field::YouthViewHidden hide=true what=tu_string!(i18n, youth_view_label).to_string()/> })}
            })}
            // Only the worker sees that the child's view was hidden, by whom and when.
            {e.youth_view_hidden.filter(|_| moderates).map(|h| view! {
                <p class="muted" data-testid="hidden-view"><strong>{tu_string!(i18n, youth_view_label)}": "</strong>{plans.shown().with_untracked(|p| hidden_by(i18n, p, &h))}</p>
                <HideButton role entity field=Field::YouthViewHidden hide=false what=tu_string!(i18n, youth_view_label).to_string()/>
            })}
            <HistoryToggle entity/>
            // The child's view is the child's who wrote it: another child gets no box to overwrite it.
            {(allowed(role, Action::AddYouthView) && own).then(|| view! {
                <OwnView role entity field=Field::YouthView current=e.youth_view.clone()/>
            })}
        </li>
    }
}

/// The three scores over time as lines on a 0–10 scale. Each line has its own dash pattern and
/// label, so colour is not the only difference.
#[component]
fn Trend(evaluations: Signal<Vec<Evaluation>>) -> impl IntoView {
    let i18n = use_i18n();
    // Whole numbers only: float formatting would add kilobytes of wasm.
    const W: u32 = 320;
    const H: u32 = 160;
    let lines = move || {
        let evals = evaluations.get();
        let n = evals.len() as u32;
        let x = move |i: u32| {
            if n < 2 {
                W / 2
            } else {
                20 + (W - 40) * i / (n - 1)
            }
        };
        let y = |s: Score| 10 + (H - 20) * (10 - u32::from(s.get())) / 10;
        let series = |pick: fn(&Evaluation) -> Option<Score>| {
            evals
                .iter()
                .zip(0..)
                .filter_map(|(e, i)| pick(e).map(|s| format!("{},{}", x(i), y(s))))
                .collect::<Vec<_>>()
                .join(" ")
        };
        (
            n,
            series(|e| e.safety),
            series(|e| e.development),
            series(|e| e.wellbeing),
        )
    };
    view! {
        <section class="card" aria-labelledby="trend-title">
            <h2 id="trend-title">{tu_string!(i18n, trend_title)}</h2>
            {move || {
                let (n, safety, development, wellbeing) = lines();
                (n > 0).then(|| view! {
                    <svg class="trend" viewBox=format!("0 0 {W} {H}") role="img" data-testid="trend"
                        aria-label=tu_string!(i18n, trend_label, count = n).to_string()>
                        <line x1="14" y1="10" x2=W y2="10" class="grid"/>
                        <line x1="14" y1=H / 2 x2=W y2=H / 2 class="grid"/>
                        <line x1="14" y1=H - 10 x2=W y2=H - 10 class="grid"/>
                        <text x="0" y="14">"10"</text>
                        <text x="3" y=H / 2 + 4>"5"</text>
                        <text x="3" y=H - 6>"0"</text>
                        <polyline class="safety" points=safety/>
                        <polyline class="development" points=development/>
                        <polyline class="wellbeing" points=wellbeing/>
                    </svg>
                    <ul class="legend">
                        <li class="safety">{tu_string!(i18n, score_safety)}</li>
                        <li class="development">{tu_string!(i18n, score_development)}</li>
                        <li class="wellbeing">{tu_string!(i18n, score_wellbeing)}</li>
                    </ul>
                })
            }}
        </section>
    }
}

/// Record an evaluation: the date, three scores, who took part (the child too), a big change
/// that prompted it, and notes.
#[component]
fn EvaluationForm(role: Role) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let date = RwSignal::new(chrono::Local::now().date_naive().to_string());
    let scores = [
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    ];
    let participants = RwSignal::new(vec![
        Role::Parent,
        Role::FosterParent,
        Role::Guardian,
        Role::FosterCareWorker,
    ]);
    let child = RwSignal::new(true);
    let big_change = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let form_error = RwSignal::new(None::<&'static str>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(day) = date.get_untracked().parse::<NaiveDate>() else {
            form_error.set(Some(tu_string!(i18n, error_date)));
            return;
        };
        let parsed: Option<Vec<Score>> = scores
            .iter()
            .map(|s| {
                s.get_untracked()
                    .trim()
                    .parse::<u8>()
                    .ok()
                    .and_then(Score::new)
            })
            .collect();
        let Some(parsed) = parsed else {
            form_error.set(Some(tu_string!(i18n, error_score)));
            return;
        };
        form_error.set(None);
        let e = Entity::Evaluation(EvaluationId(Uuid::new_v4()));
        let edits = vec![
            Edit::new(e, Field::Date, day),
            Edit::new(e, Field::Safety, Some(parsed[0])),
            Edit::new(e, Field::Development, Some(parsed[1])),
            Edit::new(e, Field::Wellbeing, Some(parsed[2])),
            Edit::new(e, Field::Participants, participants.get_untracked()),
            Edit::new(e, Field::ChildTookPart, child.get_untracked()),
            Edit::new(e, Field::BigChange, optional_text(big_change)),
            Edit::new(e, Field::Note, optional_text(note)),
        ];
        leptos::task::spawn_local(async move {
            if save(plans, i18n, role, edits, tu_string!(i18n, evaluation_saved)).await {
                for s in scores {
                    s.set(String::new());
                }
                big_change.set(String::new());
                note.set(String::new());
            }
        });
    };
    let labels = [
        tu_string!(i18n, score_safety),
        tu_string!(i18n, score_development),
        tu_string!(i18n, score_wellbeing),
    ];
    view! {
        <form class="form" novalidate on:submit=submit data-testid="evaluation-form">
            <label class="field">
                <span>{tu_string!(i18n, date)}</span>
                <input type="date" bind:value=date/>
            </label>
            <p class="muted">{tu_string!(i18n, score_scale)}</p>
            <div class="row">
                {scores.into_iter().zip(labels).map(|(s, label)| view! {
                    <label class="field">
                        <span>{label}</span>
                        <input type="number" inputmode="numeric" min="0" max="10" step="1" bind:value=s/>
                    </label>
                }).collect_view()}
            </div>
            <fieldset>
                <legend>{tu_string!(i18n, who_took_part)}</legend>
                <div class="choice-row">
                    {[Role::Parent, Role::FosterParent, Role::Guardian, Role::FosterCareWorker, Role::CareWorker]
                        .into_iter().map(|r| view! {
                        <label class="choice">
                            <input type="checkbox" prop:checked=move || participants.with(|a| a.contains(&r))
                                on:change=move |_| participants.update(|list| match list.iter().position(|x| *x == r) {
                                    Some(i) => { list.remove(i); }
                                    None => list.push(r),
                                })/>
                            <span>{format::role(i18n.get_locale_untracked(), r)}</span>
                        </label>
                    }).collect_view()}
                    <label class="choice">
                        <input type="checkbox" bind:checked=child/>
                        <span>{tu_string!(i18n, the_child)}</span>
                    </label>
                </div>
            </fieldset>
            <label class="field">
                <span>{tu_string!(i18n, big_change_label)}</span>
                <input type="text" maxlength="4000" bind:value=big_change placeholder=tu_string!(i18n, big_change_hint)/>
            </label>
            <label class="field">
                <span>{tu_string!(i18n, note)}</span>
                <textarea rows="3" maxlength="4000" bind:value=note></textarea>
            </label>
            {move || form_error.get().map(|e| view! { <p class="alert" role="alert">{e}</p> })}
            <button type="submit" class="button primary wide">{tu_string!(i18n, save)}</button>
        </form>
    }
}
