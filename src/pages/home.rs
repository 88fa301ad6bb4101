use koers_core::{Edit, Entity, Field, Plan, Role};
use leptos::prelude::*;

use crate::components::{
    contact_list::RecentContacts, deadline::DaysLeft, goal_list::MyGoals, notice::NoticeBar,
    phase_timeline::PhaseTimeline, progress::ProgressPerParty,
};
use crate::format;
use crate::home_top::{ActionItem, ActionTarget, HomeTop};
use crate::i18n::*;
use crate::plans::use_plans;
use crate::route::{Link, Nav, Screen};

/// "Waar werk ik aan?": where the plan stands and what `role` works on. The top of home is
/// [`HomeTop`], which the first paint draws too; each card follows its own part of it, so a
/// tick redraws the goal ticked, not the page.
#[component]
pub fn Home(role: Role, nav: Nav) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    if plans.plan.with_untracked(Option::is_none) {
        return ().into_any();
    }
    let plan = plans.shown();
    let now = chrono::Local::now().naive_local();
    let top = Memo::new(move |_| {
        let l = i18n.get_locale();
        plan.with(|p| HomeTop::new(l, p, role, plans.member(role), now))
    });
    let part = move |of: fn(&HomeTop) -> bool| Memo::new(move |_| top.with(of));
    let example = part(|t| t.example);
    let log_contact = part(|t| t.log_contact);
    let title = Memo::new(move |_| top.with(|t| t.title.clone()));
    let intro = Memo::new(move |_| top.with(|t| t.intro.clone()));
    view! {
        <Show when=move || example.get()>
            <p class="example" data-testid="example-badge">{tu_string!(i18n, example_notice)}</p>
        </Show>
        <h1 data-testid="child-name">{move || title.get()}</h1>
        <NoticeBar notice=plans.notice/>
        <OwnActions role nav actions=Memo::new(move |_| top.with(|t| t.actions.clone()))/>
        <Reminders list=Memo::new(move |_| top.with(|t| t.reminders.clone()))/>
        <PhaseTimeline timeline=Memo::new(move |_| top.with(|t| t.timeline.clone()))/>
        <DaysLeft card=Memo::new(move |_| top.with(|t| t.deadline.clone()))/>
        <UpNext next=Memo::new(move |_| top.with(|t| (t.next_contact.clone(), t.next_evaluation.clone())))/>
        {move || intro.get().map(|text| view! { <p class="intro" data-testid="role-intro">{text}</p> })}
        <MyGoals role goals=Memo::new(move |_| top.with(|t| t.goals.clone()))/>
        <Show when=move || log_contact.get()>
            <Link nav to=Screen::LogContact class="button primary wide" testid="log-contact">
                {tu_string!(i18n, log_contact)}
            </Link>
        </Show>
        <ProgressPerParty plan/>
        // Sharing: the worker starts a real plan from the example; in a shared plan everyone sees
        // who takes part.
        {move || match (plans.session.with(Option::is_some), role) {
            (true, _) => Some(view! {
                <Link nav to=Screen::Members class="button wide" testid="members-link">{tu_string!(i18n, members_title)}</Link>
            }.into_any()),
            (false, Role::FosterCareWorker) => Some(view! {
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
fn OwnActions(role: Role, nav: Nav, actions: Memo<Vec<ActionItem>>) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
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
        let list = actions.get();
        (!list.is_empty()).then(|| view! {
            <section class="card own-actions" aria-labelledby="own-actions-title" data-testid="own-actions">
                <h2 id="own-actions-title">{tu_string!(i18n, own_actions_title)}</h2>
                <ul>
                    {list.into_iter().map(|a| match a.does {
                        ActionTarget::GiveConsent => view! {
                            <li>
                                <span>{a.text}</span>
                                <button type="button" class="button small primary" on:click=consent data-testid="give-consent">{tu_string!(i18n, consent_give)}</button>
                            </li>
                        }.into_any(),
                        ActionTarget::Open(screen) => view! {
                            <li><Link nav to=screen>{a.text}</Link></li>
                        }.into_any(),
                    }).collect_view()}
                </ul>
            </section>
        })
    }
}

/// "Binnenkort": what needs attention soon, most urgent first.
#[component]
fn Reminders(list: Memo<Vec<String>>) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        let items = list.get();
        (!items.is_empty()).then(|| {
            view! {
                <section class="card reminders" aria-labelledby="reminders-title">
                    <h2 id="reminders-title">{tu_string!(i18n, reminders_title)}</h2>
                    <ul data-testid="reminders">
                        {items.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}
                    </ul>
                </section>
            }
        })
    }
}

/// What comes next for everyone: the next planned contact moment and the next evaluation.
#[component]
fn UpNext(next: Memo<(String, Option<String>)>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="card" aria-labelledby="next-title">
            <h2 id="next-title">{tu_string!(i18n, next_title)}</h2>
            <p data-testid="next-contact">{move || next.with(|n| n.0.clone())}</p>
            {move || next.with(|n| n.1.clone()).map(|text| view! {
                <p data-testid="next-evaluation">{text}</p>
            })}
        </section>
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
