//! The plan's five phases in plain words: where the family is, who has agreed to start, the
//! perspective decision, and the step to the next phase.

use chrono::NaiveDate;
use koers_core::rules::{self, PhaseError};
use koers_core::{allowed, Action, Edit, Entity, Field, Perspective, Phase, Plan, Role};
use leptos::prelude::*;

use crate::components::history::HistoryToggle;
use crate::components::notice::{save, NoticeBar};
use crate::format;
use crate::forms::optional_date;
use crate::i18n::*;
use crate::plans::{use_plans, Notice};

#[component]
pub fn Phases(role: Role) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let plan = plans.shown();
    let next_phase = move |_| {
        let (next, check) = plan.with_untracked(|p| {
            let next = p.phase.next();
            (next, next.map(|n| rules::check_phase_change(p, n)))
        });
        let Some(next) = next else { return };
        if let Some(Err(e)) = check {
            plans.notice.set(Some(Notice {
                text: phase_error(i18n, &e),
                is_error: true,
            }));
            return;
        }
        let today = chrono::Local::now().date_naive();
        let edits = vec![
            Edit::new(Entity::Plan, Field::Phase, next),
            Edit::new(Entity::PhaseDates(next), Field::ActualStart, Some(today)),
        ];
        leptos::task::spawn_local(async move {
            save(plans, i18n, role, edits, tu_string!(i18n, phase_moved)).await;
        });
    };
    view! {
        <h1>{tu_string!(i18n, phases_title)}</h1>
        <NoticeBar notice=plans.notice/>
        <ol class="phases" data-testid="phases">
            {Phase::ALL.into_iter().map(|phase| {
                let state = move || plan.with(|p| phase.cmp(&p.phase));
                view! {
                    <li class="card phase" class:current=move || state().is_eq() class:done=move || state().is_lt()
                        aria-current=move || state().is_eq().then_some("step") data-phase=phase.number()>
                        <h2>{format!("{} {}: {}", tu_string!(i18n, phase_word), phase.number(), format::phase(i18n.get_locale_untracked(), phase))}</h2>
                        <p>{format::phase_explained(i18n.get_locale_untracked(), phase, role == Role::Youth)}</p>
                        {move || plan.with(|p| phase_dates(i18n, p, phase))}
                        {allowed(role, Action::ChangePhase).then(|| view! { <PlannedStart role phase/> })}
                        {(phase == Phase::Mandate).then(|| view! { <Consents role/> })}
                        {(phase == Phase::Execution).then(|| view! { <Decision role/> })}
                    </li>
                }
            }).collect_view()}
        </ol>
        {move || {
            let next = plan.with(|p| p.phase.next());
            (allowed(role, Action::ChangePhase) && next.is_some()).then(|| view! {
                <button class="button primary wide" on:click=next_phase data-testid="next-phase">
                    {tu_string!(i18n, phase_next, phase = next.map_or(0, Phase::number)).to_string()}
                </button>
            })
        }}
        <HistoryToggle entity=Entity::Plan/>
    }
}

fn phase_dates(
    i18n: leptos_i18n::I18nContext<Locale>,
    plan: &Plan,
    phase: Phase,
) -> Option<String> {
    let dates = plan.phase_dates.get(&phase)?;
    let locale = i18n.get_locale_untracked();
    let planned = dates
        .planned_start
        .map(|d| tu_string!(i18n, phase_planned, date = format::date(locale, d)).to_string());
    let actual = dates
        .actual_start
        .map(|d| tu_string!(i18n, phase_started, date = format::date(locale, d)).to_string());
    let text = [planned, actual]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    (!text.is_empty()).then_some(text)
}

pub fn phase_error(i18n: leptos_i18n::I18nContext<Locale>, e: &PhaseError) -> String {
    match e {
        PhaseError::ConsentMissing { missing } => {
            tu_string!(i18n, phase_error_consent, count = missing.len()).to_string()
        }
        PhaseError::NoDecision => tu_string!(i18n, phase_error_decision).to_string(),
        PhaseError::DecisionNotHome => tu_string!(i18n, phase_error_not_home).to_string(),
        PhaseError::NotNextPhase { .. } => tu_string!(i18n, error_phase).to_string(),
    }
}

/// Phase 0: who has agreed to start, and when. Each party agrees for themself; the worker can
/// record an agreement given on paper or in a meeting.
#[component]
fn Consents(role: Role) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let plan = plans.shown();
    let me = plans.member(role);
    let rows = move || {
        plan.with(|p| {
            p.members
                .iter()
                .map(|m| {
                    (
                        m.id,
                        m.name.clone(),
                        m.role,
                        p.consents.get(&m.id).map(|c| {
                            // Recorded by someone else (the worker, from a meeting): say who.
                            let by = (c.recorded_by != m.id)
                                .then(|| p.member_or_former(c.recorded_by).map(|b| b.name.clone()))
                                .flatten();
                            (c.given_at, by)
                        }),
                    )
                })
                .collect::<Vec<_>>()
        })
    };
    let consent = move |member| {
        let now = chrono::Local::now().naive_local();
        let edits = vec![Edit::new(
            Entity::Consent(member),
            Field::GivenAt,
            Some(now),
        )];
        leptos::task::spawn_local(async move {
            save(plans, i18n, role, edits, tu_string!(i18n, consent_saved)).await;
        });
    };
    view! {
        <h3>{tu_string!(i18n, consents_title)}</h3>
        <ul class="consents" data-testid="consents">
            {move || rows().into_iter().map(|r| view! {
                <li>
                    <span>{format!("{} ({})", r.1, format::role(i18n.get_locale_untracked(), r.2))}</span>
                    {match r.3 {
                        Some((at, by)) => view! {
                            <span class="ok">
                                {tu_string!(i18n, consent_given, date = format::date(i18n.get_locale_untracked(), at.date())).to_string()}
                                {by.map(|name| tu_string!(i18n, consent_recorded_by, name = name).to_string())}
                            </span>
                        }.into_any(),
                        None if Some(r.0) == me => view! {
                            <button class="button small primary" on:click=move |_| consent(r.0)>{tu_string!(i18n, consent_give)}</button>
                        }.into_any(),
                        None if allowed(role, Action::RecordConsentForOther) => view! {
                            <button class="button small" on:click=move |_| consent(r.0)>{tu_string!(i18n, consent_record)}</button>
                        }.into_any(),
                        None => view! { <span class="muted">{tu_string!(i18n, consent_missing)}</span> }.into_any(),
                    }}
                </li>
            }).collect_view()}
        </ul>
    }
}

/// The end of phase 2: home, or growing up in the foster family, with the reasons and the date.
#[component]
fn Decision(role: Role) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let plan = plans.shown();
    let outcome = RwSignal::new(None::<Perspective>);
    let reasons = RwSignal::new(String::new());
    let date = RwSignal::new(chrono::Local::now().date_naive().to_string());
    let form_error = RwSignal::new(None::<&'static str>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (Some(choice), Ok(day)) = (
            outcome.get_untracked(),
            date.get_untracked().parse::<NaiveDate>(),
        ) else {
            form_error.set(Some(tu_string!(i18n, error_decision)));
            return;
        };
        let why = reasons.get_untracked().trim().to_string();
        if why.is_empty() {
            form_error.set(Some(tu_string!(i18n, error_decision)));
            return;
        }
        form_error.set(None);
        let edits = vec![
            Edit::new(Entity::Decision, Field::Outcome, Some(choice)),
            Edit::new(Entity::Decision, Field::Reasons, Some(why)),
            Edit::new(Entity::Decision, Field::Date, Some(day)),
        ];
        leptos::task::spawn_local(async move {
            save(plans, i18n, role, edits, tu_string!(i18n, decision_saved)).await;
        });
    };
    view! {
        <h3>{tu_string!(i18n, decision_title)}</h3>
        {move || plan.with(|p| match &p.decision {
            Some(d) => view! {
                <div class="decision" data-testid="decision">
                    <p><strong>{format::perspective(i18n, d.outcome)}</strong>
                        {d.date.map(|day| format!(" · {}", format::date(i18n.get_locale_untracked(), day)))}</p>
                    {d.reasons.clone().map(|r| view! { <p class="pre">{r}</p> })}
                </div>
            }.into_any(),
            None => view! { <p class="muted" data-testid="decision">{tu_string!(i18n, decision_none)}</p> }.into_any(),
        })}
        <HistoryToggle entity=Entity::Decision/>
        {(allowed(role, Action::RecordDecision)).then(|| view! {
            <details>
                <summary>{tu_string!(i18n, decision_record)}</summary>
                <form class="form" novalidate on:submit=submit data-testid="decision-form">
                    <fieldset>
                        <legend>{tu_string!(i18n, decision_outcome)}</legend>
                        <div class="choice-row">
                            {[Perspective::Home, Perspective::FosterFamily].into_iter().map(|o| view! {
                                <label class="choice">
                                    <input type="radio" name="outcome" on:change=move |_| outcome.set(Some(o))/>
                                    <span>{format::perspective(i18n, o)}</span>
                                </label>
                            }).collect_view()}
                        </div>
                    </fieldset>
                    <label class="field">
                        <span>{tu_string!(i18n, decision_reasons)}</span>
                        <textarea rows="3" maxlength="4000" bind:value=reasons></textarea>
                    </label>
                    <label class="field">
                        <span>{tu_string!(i18n, date)}</span>
                        <input type="date" bind:value=date/>
                    </label>
                    {move || form_error.get().map(|e| view! { <p class="alert" role="alert">{e}</p> })}
                    <button type="submit" class="button primary wide">{tu_string!(i18n, save)}</button>
                </form>
            </details>
        })}
    }
}

/// When a phase is planned to start; the worker and the guardian keep it up to date.
#[component]
fn PlannedStart(role: Role, phase: Phase) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let plan = plans.shown();
    let date = RwSignal::new(plan.with_untracked(|p| {
        p.phase_dates
            .get(&phase)
            .and_then(|d| d.planned_start)
            .map(|d| d.to_string())
            .unwrap_or_default()
    }));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(day) = optional_date(date) else {
            plans.notice.set(Some(Notice {
                text: tu_string!(i18n, error_date).to_string(),
                is_error: true,
            }));
            return;
        };
        let edits = vec![Edit::new(
            Entity::PhaseDates(phase),
            Field::PlannedStart,
            day,
        )];
        leptos::task::spawn_local(async move {
            save(
                plans,
                i18n,
                role,
                edits,
                tu_string!(i18n, phase_planned_saved),
            )
            .await;
        });
    };
    view! {
        <details>
            <summary>{tu_string!(i18n, phase_plan)}</summary>
            <form class="form" novalidate on:submit=submit>
                <label class="field">
                    <span>{tu_string!(i18n, phase_planned_label)}</span>
                    <input type="date" bind:value=date/>
                </label>
                <button type="submit" class="button wide">{tu_string!(i18n, save)}</button>
            </form>
        </details>
    }
}
