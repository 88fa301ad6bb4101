//! The plan on one or two A4 pages, for a meeting or the court: where it stands, the goals, the
//! contact moments per month and the evaluations.

use koers_core::rules;
use koers_core::{GoalStatus, Plan};
use leptos::prelude::*;

use crate::format;
use crate::i18n::*;
use crate::plans::use_plans;

#[component]
pub fn Summary() -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let plan = plans.shown();
    let print = move |_| {
        let _ = window().print();
    };
    move || {
        plan.with(|p| view! {
        <button class="button primary wide" on:click=print>{tu_string!(i18n, print_button)}</button>
        <article class="summary" data-testid="summary">{summary(i18n, p)}</article>
    })
    }
}

fn summary(i18n: leptos_i18n::I18nContext<Locale>, p: &Plan) -> impl IntoView + use<> {
    let locale = i18n.get_locale_untracked();
    let today = chrono::Local::now().date_naive();
    let score =
        |s: Option<koers_core::Score>| s.map_or_else(|| "—".to_string(), |s| s.get().to_string());
    let deadline = rules::perspective_deadline(p)
        .map(|d| tu_string!(i18n, summary_deadline, date = format::date(locale, d)).to_string());
    view! {
        <h1>{tu_string!(i18n, plan_of, child = p.child_name.clone()).to_string()}</h1>
        <p class="muted">{tu_string!(i18n, summary_printed, date = format::date(locale, today)).to_string()}</p>
        <p><strong>{format!("{} {}: {}", tu_string!(i18n, phase_word), p.phase.number(), format::phase(i18n.get_locale_untracked(), p.phase))}</strong>
            " — " {format::phase_explained(i18n.get_locale_untracked(), p.phase, false)}</p>
        {deadline.map(|d| view! { <p>{d}</p> })}
        {p.decision.as_ref().map(|d| view! {
            <p><strong>{tu_string!(i18n, decision_title)}": "</strong>{format::perspective(i18n, d.outcome)}
                {d.reasons.clone().map(|r| format!(" — {r}"))}</p>
        })}
        <h2>{tu_string!(i18n, goals_title)}</h2>
        <table>
            <thead><tr>
                <th scope="col">{tu_string!(i18n, goal_title_label)}</th>
                <th scope="col">{tu_string!(i18n, goal_owner_label)}</th>
                <th scope="col">{tu_string!(i18n, goal_status_label)}</th>
                <th scope="col">{tu_string!(i18n, goal_deadline_label)}</th>
            </tr></thead>
            <tbody>
                {p.goals.iter().map(|g| view! {
                    <tr>
                        <td>{g.title.clone()}</td>
                        <td>{format::role(i18n.get_locale_untracked(), g.owner)}</td>
                        <td>{if g.status == GoalStatus::Done { "✓ " } else { "" }}{format::goal_status(i18n, g.status)}</td>
                        <td>{g.deadline.map(|d| format::date(locale, d))}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <h2>{tu_string!(i18n, contacts_per_month)}</h2>
        <table data-testid="months">
            <thead><tr>
                <th scope="col">{tu_string!(i18n, month)}</th>
                <th scope="col">{tu_string!(i18n, status_planned)}</th>
                <th scope="col">{tu_string!(i18n, status_happened)}</th>
                <th scope="col">{tu_string!(i18n, status_cancelled)}</th>
                <th scope="col">{tu_string!(i18n, status_no_show)}</th>
            </tr></thead>
            <tbody>
                {p.contacts_per_month().into_iter().map(|m| view! {
                    <tr>
                        <td>{format::month(locale, m.year, m.month)}</td>
                        <td>{m.planned}</td>
                        <td>{m.happened}</td>
                        <td>{m.cancelled}</td>
                        <td>{m.no_show}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <h2>{tu_string!(i18n, evaluations_title)}</h2>
        <table>
            <thead><tr>
                <th scope="col">{tu_string!(i18n, date)}</th>
                <th scope="col">{tu_string!(i18n, score_safety)}</th>
                <th scope="col">{tu_string!(i18n, score_development)}</th>
                <th scope="col">{tu_string!(i18n, score_wellbeing)}</th>
            </tr></thead>
            <tbody>
                {p.evaluations.iter().map(|e| view! {
                    <tr>
                        <td>{format::date(locale, e.date)}</td>
                        <td>{score(e.safety)}</td>
                        <td>{score(e.development)}</td>
                        <td>{score(e.wellbeing)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
