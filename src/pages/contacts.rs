//! Every contact moment by month, with filters: planned against what happened. Visits are marked
//! as happened, cancelled (with the reason) or missed; parents and the child add their own view.

use koers_core::plan::ContactMoment;
use koers_core::{allowed, Action, ContactKind, ContactStatus, Edit, Entity, Field, Role};
use leptos::prelude::*;

use crate::components::face::Face;
use crate::components::hide::{hidden_by, HideButton};
use crate::components::history::HistoryToggle;
use crate::components::notice::{save, NoticeBar};
use crate::components::own_view::OwnView;
use crate::format;
use crate::forms::optional_text;
use crate::i18n::*;
use crate::plans::use_plans;
use crate::route::{Link, Nav, Screen};

#[component]
pub fn Contacts(role: Role, nav: Nav) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let plan = plans.shown();
    let kind = RwSignal::new(None::<ContactKind>);
    let status = RwSignal::new(None::<ContactStatus>);
    // Newest month first; within a month, by date and time.
    let months = move || {
        plan.with(|p| {
            let (k, s) = (kind.get(), status.get());
            p.contacts_per_month()
                .into_iter()
                .rev()
                .map(|m| {
                    let items = p
                        .contact_moments
                        .iter()
                        .filter(|c| {
                            use chrono::Datelike;
                            (c.at.year(), c.at.month()) == (m.year, m.month)
                                && k.is_none_or(|k| c.kind == k)
                                && s.is_none_or(|s| c.status == s)
                        })
                        .cloned()
                        .collect::<Vec<_>>();
                    (m, items)
                })
                .collect::<Vec<_>>()
        })
    };
    let logs = allowed(role, Action::LogContactMoment);
    view! {
        <h1>{tu_string!(i18n, contact_moments)}</h1>
        <NoticeBar notice=plans.notice/>
        {logs.then(|| view! {
            <div class="row">
                <Link nav to=Screen::LogContact class="button primary wide" testid="log-contact">{tu_string!(i18n, log_contact)}</Link>
                <Link nav to=Screen::PlanContact class="button wide" testid="plan-contact">{tu_string!(i18n, plan_contact)}</Link>
            </div>
        })}
        <div class="row filters">
            <label class="field">
                <span>{tu_string!(i18n, filter_kind)}</span>
                <select data-testid="filter-kind" on:change=move |ev| kind.set(ContactKind::ALL.into_iter().find(|k| format::contact_kind(i18n.get_locale_untracked(), *k) == event_target_value(&ev)))>
                    <option>{tu_string!(i18n, filter_all)}</option>
                    {ContactKind::ALL.into_iter().map(|k| view! { <option>{format::contact_kind(i18n.get_locale_untracked(), k)}</option> }).collect_view()}
                </select>
            </label>
            <label class="field">
                <span>{tu_string!(i18n, goal_status_label)}</span>
                <select data-testid="filter-status" on:change=move |ev| status.set(ContactStatus::ALL.into_iter().find(|s| format::contact_status(i18n, *s) == event_target_value(&ev)))>
                    <option>{tu_string!(i18n, filter_all)}</option>
                    {ContactStatus::ALL.into_iter().map(|s| view! { <option>{format::contact_status(i18n, s)}</option> }).collect_view()}
                </select>
            </label>
        </div>
        <div data-testid="months">
            {move || months().into_iter().map(|(m, items)| view! {
                <section class="card month" aria-label=format::month(i18n.get_locale_untracked(), m.year, m.month)>
                    <h2>{format::month(i18n.get_locale_untracked(), m.year, m.month)}</h2>
                    <p class="muted" data-testid="month-counts">{tu_string!(i18n, month_counts, planned = m.planned, happened = m.happened, cancelled = m.cancelled, no_show = m.no_show).to_string()}</p>
                    <ul class="contacts">
                        {items.into_iter().map(|c| view! { <ContactItem role c/> }).collect_view()}
                    </ul>
                </section>
            }).collect_view()}
        </div>
    }
}

/// One contact moment, with what this role may add to it.
#[component]
fn ContactItem(role: Role, c: ContactMoment) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let e = Entity::ContactMoment(c.id);
    let locale = i18n.get_locale_untracked();
    let set = move |edits: Vec<Edit>| {
        leptos::task::spawn_local(async move {
            save(plans, i18n, role, edits, tu_string!(i18n, contact_saved)).await;
        });
    };
    let reason = RwSignal::new(String::new());
    // A view is its writer's: another parent (or child) sees it but gets no box to overwrite it.
    // Hidden, it is left alone until the worker shows it again.
    let me = plans.member(role);
    let own_field = match role {
        Role::Parent => Some((
            Field::ParentView,
            c.parent_view.clone(),
            c.parent_view_writer,
            c.parent_view_hidden,
        )),
        Role::Youth => Some((
            Field::YouthView,
            c.youth_view.clone(),
            c.youth_view_writer,
            c.youth_view_hidden,
        )),
        _ => None,
    }
    .filter(|(_, _, writer, hidden)| writer.is_none_or(|w| Some(w) == me) && hidden.is_none())
    .map(|(field, current, _, _)| (field, current));
    let views = [
        (
            Field::ParentViewHidden,
            c.parent_view.clone(),
            c.parent_view_hidden,
            tu_string!(i18n, parent_view_label),
        ),
        (
            Field::YouthViewHidden,
            c.youth_view.clone(),
            c.youth_view_hidden,
            tu_string!(i18n, youth_view_label),
        ),
    ];
    let moderates = allowed(role, Action::HideContribution);
    let plan = plans.shown();
    let who = c
        .attendees
        .iter()
        .map(|r| format::role(i18n.get_locale_untracked(), *r))
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <li class="contact">
            <span class="contact-face">{c.rating.map(|r| view! { <Face rating=r.get()/> })}</span>
            <span class="contact-body">
                <span class="contact-head">{format!("{} · {}", format::contact_kind(i18n.get_locale_untracked(), c.kind), format::date_time(locale, c.at))}</span>
                <span class="contact-status">
                    {format::contact_status(i18n, c.status)}
                    {c.place.clone().map(|p| format!(" · {p}"))}
                    {c.duration_minutes.map(|m| format!(" · {}", tu_string!(i18n, minutes, count = m)))}
                </span>
                {(!who.is_empty()).then(|| view! { <span class="contact-note">{who}</span> })}
                {c.note.clone().or(c.cancel_reason.clone()).map(|n| view! { <span class="contact-note pre">{n}</span> })}
                {views.into_iter().map(|(hide_field, words, hidden, label)| match (words, hidden) {
                    (Some(v), _) => Some(view! {
                        <span class="contact-note pre" data-testid="view"><strong>{label}": "</strong>{v}</span>
                        {moderates.then(|| view! { <HideButton role entity=e field=hide_field hide=true what=label.to_string()/> })}
                    }.into_any()),
                    // Only the worker sees that a view was hidden, by whom and when.
                    (None, Some(h)) if moderates => Some(view! {
                        <span class="contact-note muted" data-testid="hidden-view">
                            <strong>{label}": "</strong>{plan.with_untracked(|p| hidden_by(i18n, p, &h))}
                        </span>
                        <HideButton role entity=e field=hide_field hide=false what=label.to_string()/>
                    }.into_any()),
                    (None, _) => None,
                }).collect_view()}
                {(c.status == ContactStatus::Planned && allowed(role, Action::LogContactMoment)).then(|| view! {
                    <details class="outcome">
                        <summary>{tu_string!(i18n, contact_outcome)}</summary>
                        <button class="button wide" on:click=move |_| set(vec![Edit::new(e, Field::Status, ContactStatus::Happened)])>{tu_string!(i18n, status_happened)}</button>
                        <button class="button wide" on:click=move |_| set(vec![Edit::new(e, Field::Status, ContactStatus::NoShow)])>{tu_string!(i18n, status_no_show)}</button>
                        <label class="field">
                            <span>{tu_string!(i18n, cancel_reason)}</span>
                            <input type="text" maxlength="4000" bind:value=reason/>
                        </label>
                        <button class="button wide" on:click=move |_| set(vec![
                            Edit::new(e, Field::Status, ContactStatus::Cancelled),
                            Edit::new(e, Field::CancelReason, optional_text(reason)),
                        ])>{tu_string!(i18n, status_cancelled)}</button>
                    </details>
                })}
                <HistoryToggle entity=e/>
                {own_field.filter(|_| c.status == ContactStatus::Happened).map(|(field, current)| view! {
                    <OwnView role entity=e field current/>
                })}
            </span>
        </li>
    }
}
