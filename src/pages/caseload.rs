//! "Mijn gezinnen": every plan on this phone in one list, what needs attention first. Computed on
//! the phone from each plan's stored overview row (see `plans::Overview`), never from a server
//! report, so it works offline and opens without replaying twenty logs.

use koers_core::caseload::{self, Attention, Row};
use koers_core::{Phase, PlanId};
use leptos::prelude::*;

use crate::format;
use crate::i18n::*;
use crate::plans::use_plans;
use crate::professional::use_professional;
use crate::route::{Link, Nav, Screen};

/// Which rows the list shows.
#[derive(Clone, Copy, PartialEq)]
enum Filter {
    NeedsAttention,
    All,
    Phase(Phase),
}

#[component]
pub fn Caseload(nav: Nav) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let filter = RwSignal::new(Filter::All);
    let today = chrono::Local::now().date_naive();
    let rows = Memo::new(move |_| {
        let shown = plans.shown_plan();
        let shown_pending = plans.sync.with(|s| s.pending.len());
        plans.entries.with(|plans| {
            let mut rows: Vec<(Row, Option<koers_core::Role>, bool)> = plans
                .iter()
                .filter_map(|e| {
                    let o = e.overview.clone()?;
                    let pending = if Some(e.membership.plan) == shown {
                        shown_pending
                    } else {
                        o.pending
                    };
                    let role = e.membership.session.as_ref().map(|s| s.role);
                    let example = e.membership.plan == koers_core::demo::PLAN;
                    Some((Row::new(o.summary, today, pending, o.unseen), role, example))
                })
                .collect();
            // The example plan last, whatever it signals: it is nobody's child.
            rows.sort_by(|a, b| a.2.cmp(&b.2).then_with(|| caseload::compare(&a.0, &b.0)));
            rows
        })
    });
    let professional = use_professional();
    // An administrator's own screen is reached from here, the professional's start.
    let admin = Memo::new(move |_| {
        professional
            .signed_in
            .with(|s| s.as_ref().is_some_and(|s| s.account.admin))
    });
    let worker = Memo::new(move |_| {
        professional.signed_in.with(Option::is_some)
            || crate::settings::stored_role() == Some(koers_core::Role::FosterCareWorker)
            || plans.entries.with(|p| {
                p.iter().any(|e| {
                    e.membership
                        .session
                        .as_ref()
                        .is_some_and(|s| s.role == koers_core::Role::FosterCareWorker)
                })
            })
    });
    let waiting = move || {
        plans
            .entries
            .with(|p| p.iter().filter(|e| e.overview.is_none()).count())
    };
    let choose = move |ev: leptos::ev::Event| {
        filter.set(match event_target_value(&ev).as_str() {
            "attention" => Filter::NeedsAttention,
            "all" => Filter::All,
            n => n
                .parse::<u8>()
                .ok()
                .and_then(|n| Phase::ALL.into_iter().find(|p| p.number() == n))
                .map_or(Filter::All, Filter::Phase),
        })
    };
    view! {
        <h1>{tu_string!(i18n, caseload_title)}</h1>
        <p class="muted">{tu_string!(i18n, caseload_intro)}</p>
        <label class="field">
            <span>{tu_string!(i18n, caseload_filter)}</span>
            <select on:change=choose data-testid="caseload-filter">
                <option value="all">{tu_string!(i18n, caseload_all)}</option>
                <option value="attention">{tu_string!(i18n, caseload_attention)}</option>
                {Phase::ALL.map(|p| view! {
                    <option value=p.number().to_string()>{format!("{} {}: {}", tu_string!(i18n, phase_word), p.number(), format::phase(i18n.get_locale_untracked(), p))}</option>
                }).collect_view()}
            </select>
        </label>
        <ul class="caseload" data-testid="caseload">
            {move || {
                let filter = filter.get();
                rows.get()
                    .into_iter()
                    .filter(|(row, _, _)| match filter {
                        Filter::All => true,
                        Filter::NeedsAttention => row.attention != Attention::Calm,
                        Filter::Phase(p) => row.summary.phase == p,
                    })
                    .map(|(row, role, example)| view! { <PlanRow row role example nav/> })
                    .collect_view()
            }}
        </ul>
        {move || (waiting() > 0).then(|| view! {
            <p class="muted" role="status">{tu_string!(i18n, caseload_building, count = waiting()).to_string()}</p>
        })}
        <Show when=move || plans.entries.with(|p| p.iter().all(|e| e.membership.session.is_none()))>
            <p>{tu_string!(i18n, caseload_join_hint)}</p>
        </Show>
        // A foster-care worker starts her families' plans here (and from the example's home).
        <Show when=move || worker.get()>
            <Link nav to=Screen::NewPlan class="button wide" testid="new-plan-link">{tu_string!(i18n, new_plan_title)}</Link>
        </Show>
        <Show when=move || admin.get()>
            <Link nav to=Screen::Admin class="button wide" testid="admin-link">{tu_string!(i18n, admin_title)}</Link>
        </Show>
    }
}

/// One plan: the child, where the plan stands, what needs doing.
#[component]
fn PlanRow(row: Row, role: Option<koers_core::Role>, example: bool, nav: Nav) -> impl IntoView {
    let i18n = use_i18n();
    let l = i18n.get_locale_untracked();
    let plan: PlanId = row.summary.plan;
    let s = &row.signals;
    let mut facts: Vec<(String, &'static str, bool)> = Vec::new();
    match s.days_left {
        Some(d) if d < 0 => facts.push((
            tu_string!(i18n, deadline_passed, days = -d).to_string(),
            "days-left",
            true,
        )),
        Some(d) => facts.push((
            tu_string!(i18n, caseload_days_left, days = d).to_string(),
            "days-left",
            s.deadline_urgent,
        )),
        None if row.summary.decided => facts.push((
            tu_string!(i18n, deadline_decided).to_string(),
            "days-left",
            false,
        )),
        None => {}
    }
    if let Some(next) = s.next_contact {
        facts.push((
            tu_string!(
                i18n,
                caseload_next_contact,
                when = format::date_time(l, next)
            )
            .to_string(),
            "next-contact",
            false,
        ));
    }
    match s.days_since_contact {
        Some(d) => facts.push((
            tu_string!(i18n, caseload_last_contact, days = d).to_string(),
            "last-contact",
            d > 28,
        )),
        None => facts.push((
            tu_string!(i18n, caseload_no_contact).to_string(),
            "last-contact",
            false,
        )),
    }
    if let Some(due) = s.next_evaluation {
        let text = if s.evaluation_overdue {
            tu_string!(
                i18n,
                caseload_evaluation_overdue,
                date = format::date(l, due)
            )
            .to_string()
        } else {
            tu_string!(i18n, next_evaluation, date = format::date(l, due)).to_string()
        };
        facts.push((text, "evaluation", s.evaluation_overdue));
    }
    if s.goals_overdue > 0 {
        facts.push((
            tu_string!(i18n, caseload_goals_overdue, count = s.goals_overdue).to_string(),
            "goals-overdue",
            true,
        ));
    }
    if s.consents_missing > 0 {
        facts.push((
            tu_string!(i18n, caseload_consents_missing, count = s.consents_missing).to_string(),
            "consents-missing",
            true,
        ));
    }
    if row.pending > 0 {
        facts.push((format::waiting(l, row.pending), "pending", false));
    }
    let unseen = match row.unseen {
        0 => None,
        1 => Some(tu_string!(i18n, caseload_unseen_one).to_string()),
        n => Some(tu_string!(i18n, caseload_unseen, count = n).to_string()),
    };
    if let Some(text) = unseen {
        facts.push((text, "unseen", false));
    }
    let actions: Vec<String> = s
        .open_actions
        .iter()
        .map(|a| format::open_action(l, a))
        .collect();
    let follow = move |e: leptos::ev::MouseEvent| {
        if !(e.ctrl_key() || e.meta_key() || e.shift_key() || e.alt_key()) {
            e.prevent_default();
            nav.open(plan, Screen::Home);
        }
    };
    let attention = row.attention != Attention::Calm;
    view! {
        <li class="card plan-row" class:attention=attention data-testid="plan-row" data-plan=plan.0.to_string()>
            <a href=Screen::Home.path_in(Some(plan)) on:click=follow class="plan-row-link">
                <strong data-testid="plan-row-child">{row.summary.child_name.clone()}</strong>
                {role.map(|r| view! { " · " {format::role(l, r)} })}
                {example.then(|| view! { " · " <span class="example">{tu_string!(i18n, example_short)}</span> })}
            </a>
            <p class="muted" data-testid="plan-row-phase">
                {format!("{} {}: {}", tu_string!(i18n, phase_word), row.summary.phase.number(), format::phase(l, row.summary.phase))}
            </p>
            {(!actions.is_empty()).then(|| view! {
                <ul class="own-actions" data-testid="plan-row-actions">
                    {actions.into_iter().map(|a| view! { <li>{a}</li> }).collect_view()}
                </ul>
            })}
            <ul class="facts">
                {facts.into_iter().map(|(text, id, warn)| view! {
                    <li class:warn=warn data-testid=format!("plan-row-{id}")>{text}</li>
                }).collect_view()}
            </ul>
        </li>
    }
}
