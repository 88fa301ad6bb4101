use koers_core::caseload::{open_actions, OpenAction};
use koers_core::{allowed, Action, Edit, Entity, Field, Plan, Role};
use leptos::prelude::*;

use crate::components::{
    contact_list::RecentContacts, deadline::DeadlineCard, goal_list::MyGoals, notice::NoticeBar,
    phase_timeline::PhaseTimeline, progress::ProgressPerParty,
};
use crate::format;
use crate::i18n::*;
use crate::plans::use_plans;
use crate::reminders::Reminders;
use crate::route::{Link, Nav, Screen};

/// "Waar werk ik aan?": where the plan stands and what the chosen role works on.
#[component]
pub fn Home(role: RwSignal<Option<Role>>, nav: Nav) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    if plans.plan.with_untracked(Option::is_none) {
        return ().into_any();
    }
    let plan = plans.shown();
    let today = chrono::Local::now().date_naive();
    let child = move || plan.with(|p| p.child_name.clone());
    view! {
        <Show when=move || plan.with(|p| p.is_example)>
            <p class="example" data-testid="example-badge">{tu_string!(i18n, example_notice)}</p>
        </Show>
        <h1 data-testid="child-name">{move || tu_string!(i18n, plan_of, child = child()).to_string()}</h1>
        <NoticeBar notice=plans.notice/>
        {move || role.get().map(|r| view! { <OwnActions role=r nav/> })}
        {move || role.get().map(|r| view! { <Reminders plan role=r/> })}
        <PhaseTimeline plan youth=Signal::derive(move || role.get() == Some(Role::Youth))/>
        <DeadlineCard plan today/>
        <UpNext plan/>
        {move || role.get().map(|r| view! {
            {match r {
                Role::Parent => Some(tu_string!(i18n, home_intro_parent, child = child()).to_string()),
                Role::Youth => Some(tu_string!(i18n, home_intro_youth).to_string()),
                _ => None,
            }.map(|text| view! { <p class="intro" data-testid="role-intro">{text}</p> })}
            <MyGoals plan role=r/>
            {allowed(r, Action::LogContactMoment).then(|| view! {
                <Link nav to=Screen::LogContact class="button primary wide" testid="log-contact">
                    {tu_string!(i18n, log_contact)}
                </Link>
            })}
        })}
        <ProgressPerParty plan/>
        // Sharing: the worker starts a real plan from the example; in a shared plan everyone sees
        // who takes part.
        {move || match (plans.session.with(Option::is_some), role.get()) {
            (true, _) => Some(view! {
                <Link nav to=Screen::Members class="button wide" testid="members-link">{tu_string!(i18n, members_title)}</Link>
            }.into_any()),
            (false, Some(Role::FosterCareWorker)) => Some(view! {
                <Link nav to=Screen::NewPlan class="button wide" testid="new-plan-link">{tu_string!(i18n, new_plan_title)}</Link>
            }.into_any()),
            _ => None,
        }}
        <RecentContacts plan/>
        <ContactPerson plan/>
    }
    .into_any()
}

/// "Wat jij nu kunt doen": the member's own open actions, before anything else on home (see
/// `koers_core::caseload::open_actions`); consent can be given right here.
#[component]
fn OwnActions(role: Role, nav: Nav) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let today = chrono::Local::now().date_naive();
    let plan = plans.shown();
    let actions = Memo::new(move |_| plan.with(|p| open_actions(p, plans.member(role), today)));
    let consent = move |_| {
        let Some(member) = plans.member(role) else {
            return;
        };
        let now = chrono::Local::now().naive_local();
        let edits = vec![Edit::new(
            Entity::Consent(member),
            Field::GivenAt,
            Some(now),
        )];
        leptos::task::spawn_local(async move {
            crate::components::notice::save(
                plans,
                i18n,
                role,
                edits,
                tu_string!(i18n, consent_saved),
            )
            .await;
        });
    };
    move || {
        let l = i18n.get_locale_untracked();
        let list = actions.get();
        (!list.is_empty()).then(|| view! {
            <section class="card own-actions" aria-labelledby="own-actions-title" data-testid="own-actions">
                <h2 id="own-actions-title">{tu_string!(i18n, own_actions_title)}</h2>
                <ul>
                    {list.iter().map(|a| {
                        let text = crate::format::open_action(l, a);
                        match a {
                            OpenAction::GiveConsent => view! {
                                <li>
                                    <span>{text}</span>
                                    <button type="button" class="button small primary" on:click=consent data-testid="give-consent">{tu_string!(i18n, consent_give)}</button>
                                </li>
                            }.into_any(),
                            OpenAction::GoalOverdue { goal, .. } => view! {
                                <li><Link nav to=Screen::Goal(*goal)>{text}</Link></li>
                            }.into_any(),
                            OpenAction::PrepareEvaluation { .. } => view! {
                                <li><Link nav to=Screen::Evaluations>{text}</Link></li>
                            }.into_any(),
                        }
                    }).collect_view()}
                </ul>
            </section>
        })
    }
}

/// The one fixed, reachable contact person, with a tap-to-call link.
#[component]
fn ContactPerson(plan: Signal<Plan>) -> impl IntoView {
    let i18n = use_i18n();
    let person = move || plan.with(|p| p.contact_person().cloned());
    view! {
        {move || person().map(|m| view! {
            <section class="card" aria-labelledby="contact-person-title">
                <h2 id="contact-person-title">{tu_string!(i18n, contact_person)}</h2>
                <p>
                    <strong>{m.name.clone()}</strong>
                    " (" {format::role(i18n.get_locale_untracked(), m.role)} ")"
                </p>
                {m.phone.clone().map(|phone| {
                    let href = format!("tel:{}", phone.replace(' ', ""));
                    view! { <a class="button wide" href=href>{tu_string!(i18n, call, phone = phone.clone()).to_string()}</a> }
                })}
            </section>
        })}
    }
}

/// What comes next for everyone: the next planned contact moment and the next evaluation.
#[component]
fn UpNext(plan: Signal<Plan>) -> impl IntoView {
    let i18n = use_i18n();
    let now = chrono::Local::now().naive_local();
    move || {
        let locale = i18n.get_locale_untracked();
        let (contact, evaluation) = plan.with(|p| {
            (
                format::next_contact(locale, p, now),
                koers_core::rules::next_evaluation_due(p),
            )
        });
        view! {
            <section class="card" aria-labelledby="next-title">
                <h2 id="next-title">{tu_string!(i18n, next_title)}</h2>
                <p data-testid="next-contact">{contact}</p>
                {evaluation.map(|d| view! {
                    <p data-testid="next-evaluation">{tu_string!(i18n, next_evaluation, date = format::date(locale, d)).to_string()}</p>
                })}
            </section>
        }
    }
}
