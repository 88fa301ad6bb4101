//! The family's informal network (who helps with what) and the professional help around it
//! (interventions, their status and hours per week).

use koers_core::plan::{Intervention, NetworkPerson};
use koers_core::{
    allowed, Action, Edit, Entity, Field, InterventionId, InterventionKind, InterventionStatus,
    NetworkPersonId, Role,
};
use leptos::prelude::*;
use uuid::Uuid;

use crate::components::history::HistoryToggle;
use crate::components::notice::{save, NoticeBar};
use crate::format;
use crate::forms::optional_text;
use crate::i18n::*;
use crate::plans::use_plans;

#[component]
pub fn Network(role: Role) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let plan = plans.shown();
    let people = move || plan.with(|p| p.network.clone());
    let help = move || plan.with(|p| p.interventions.clone());
    let edits_network = allowed(role, Action::EditNetwork);
    let edits_help = allowed(role, Action::EditIntervention);
    view! {
        <h1>{tu_string!(i18n, network_title)}</h1>
        <p class="muted">{tu_string!(i18n, network_intro)}</p>
        <NoticeBar notice=plans.notice/>
        <section class="card" aria-labelledby="people-title">
            <h2 id="people-title">{tu_string!(i18n, network_people)}</h2>
            <ul class="people" data-testid="network">
                {move || people().into_iter().map(|person| view! { <PersonItem role person editable=edits_network/> }).collect_view()}
            </ul>
            {edits_network.then(|| view! {
                <details data-testid="new-person">
                    <summary>{tu_string!(i18n, network_add)}</summary>
                    <PersonForm role person=None/>
                </details>
            })}
        </section>
        <section class="card" aria-labelledby="help-title">
            <h2 id="help-title">{tu_string!(i18n, interventions_title)}</h2>
            <ul class="people" data-testid="interventions">
                {move || help().into_iter().map(|i| view! { <InterventionItem role i editable=edits_help/> }).collect_view()}
            </ul>
            {edits_help.then(|| view! {
                <details data-testid="new-intervention">
                    <summary>{tu_string!(i18n, intervention_add)}</summary>
                    <InterventionForm role intervention=None/>
                </details>
            })}
        </section>
    }
}

#[component]
fn PersonItem(role: Role, person: NetworkPerson, editable: bool) -> impl IntoView {
    let i18n = use_i18n();
    let about = [person.relation.clone(), person.helps_with.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    view! {
        <li>
            <strong>{person.name.clone()}</strong>
            {(!about.is_empty()).then(|| view! { <span class="muted">{about}</span> })}
            {person.phone.clone().map(|phone| {
                let href = format!("tel:{}", phone.replace(' ', ""));
                view! { <a href=href class="tel">{phone}</a> }
            })}
            {editable.then(|| view! {
                <details>
                    <summary>{tu_string!(i18n, edit)}</summary>
                    <PersonForm role person=Some(person.clone())/>
                </details>
            })}
            <HistoryToggle entity=Entity::NetworkPerson(person.id)/>
        </li>
    }
}

/// Add someone from the network, or change or remove them.
#[component]
fn PersonForm(role: Role, person: Option<NetworkPerson>) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let p = person.as_ref();
    let name = RwSignal::new(p.map(|p| p.name.clone()).unwrap_or_default());
    let relation = RwSignal::new(p.and_then(|p| p.relation.clone()).unwrap_or_default());
    let helps = RwSignal::new(p.and_then(|p| p.helps_with.clone()).unwrap_or_default());
    let phone = RwSignal::new(p.and_then(|p| p.phone.clone()).unwrap_or_default());
    let form_error = RwSignal::new(None::<&'static str>);
    let existing = p.map(|p| p.id);
    let is_new = existing.is_none();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let who = name.get_untracked().trim().to_string();
        if who.is_empty() {
            form_error.set(Some(tu_string!(i18n, error_name)));
            return;
        }
        form_error.set(None);
        // A new person gets a new id on every add: the form stays open for the next one.
        let e = Entity::NetworkPerson(existing.unwrap_or_else(|| NetworkPersonId(Uuid::new_v4())));
        let edits = vec![
            Edit::new(e, Field::Name, who),
            Edit::new(e, Field::Relation, optional_text(relation)),
            Edit::new(e, Field::HelpsWith, optional_text(helps)),
            Edit::new(e, Field::Phone, optional_text(phone)),
        ];
        leptos::task::spawn_local(async move {
            if save(plans, i18n, role, edits, tu_string!(i18n, network_saved)).await && is_new {
                for s in [name, relation, helps, phone] {
                    s.set(String::new());
                }
            }
        });
    };
    let remove = move |_| {
        let Some(id) = existing else {
            return;
        };
        let e = Entity::NetworkPerson(id);
        leptos::task::spawn_local(async move {
            save(
                plans,
                i18n,
                role,
                vec![Edit::new(e, Field::Deleted, true)],
                tu_string!(i18n, network_removed),
            )
            .await;
        });
    };
    view! {
        <form class="form" novalidate on:submit=submit>
            <label class="field"><span>{tu_string!(i18n, name)}</span><input type="text" maxlength="4000" bind:value=name/></label>
            <label class="field"><span>{tu_string!(i18n, network_relation)}</span><input type="text" maxlength="4000" bind:value=relation/></label>
            <label class="field"><span>{tu_string!(i18n, network_helps)}</span><input type="text" maxlength="4000" bind:value=helps/></label>
            <label class="field"><span>{tu_string!(i18n, phone)}</span><input type="tel" maxlength="40" bind:value=phone/></label>
            {move || form_error.get().map(|e| view! { <p class="alert" role="alert">{e}</p> })}
            <button type="submit" class="button primary wide">{tu_string!(i18n, save)}</button>
            {(!is_new).then(|| view! { <button type="button" class="button wide danger" on:click=remove>{tu_string!(i18n, remove)}</button> })}
        </form>
    }
}

#[component]
fn InterventionItem(role: Role, i: Intervention, editable: bool) -> impl IntoView {
    let i18n = use_i18n();
    let title = format::intervention(i18n, &i);
    let status = format::intervention_status(i18n, i.status);
    let hours = tu_string!(
        i18n,
        hours_per_week,
        hours = format::hours(i18n.get_locale_untracked(), i.hours_per_week)
    )
    .to_string();
    view! {
        <li>
            <strong>{title}</strong>
            <span class="muted">{format!("{} · {status} · {hours}", format::intervention_kind(i18n, i.kind))}</span>
            {i.note.clone().map(|n| view! { <span class="pre">{n}</span> })}
            {editable.then(|| view! {
                <details>
                    <summary>{tu_string!(i18n, edit)}</summary>
                    <InterventionForm role intervention=Some(i.clone())/>
                </details>
            })}
            <HistoryToggle entity=Entity::Intervention(i.id)/>
        </li>
    }
}

/// Add or change an intervention: its kind, own name, status and hours per week.
#[component]
fn InterventionForm(role: Role, intervention: Option<Intervention>) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let it = intervention.as_ref();
    let kind = RwSignal::new(it.map_or(InterventionKind::Vib, |i| i.kind));
    let status = RwSignal::new(it.map_or(InterventionStatus::Planned, |i| i.status));
    let name = RwSignal::new(it.and_then(|i| i.name.clone()).unwrap_or_default());
    let hours = RwSignal::new(
        it.map(|i| format::hours(i18n.get_locale_untracked(), i.hours_per_week))
            .unwrap_or_default(),
    );
    let note = RwSignal::new(it.and_then(|i| i.note.clone()).unwrap_or_default());
    let form_error = RwSignal::new(None::<&'static str>);
    let existing = it.map(|i| i.id);
    let is_new = existing.is_none();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text_hours = hours.get_untracked().trim().replace(',', ".");
        let h = if text_hours.is_empty() {
            Some(0.0)
        } else {
            text_hours.parse::<f32>().ok()
        };
        let Some(h) = h.filter(|h| (0.0..=60.0).contains(h)) else {
            form_error.set(Some(tu_string!(i18n, error_hours)));
            return;
        };
        form_error.set(None);
        // A new intervention gets a new id on every add: the form stays open for the next one.
        let e = Entity::Intervention(existing.unwrap_or_else(|| InterventionId(Uuid::new_v4())));
        let edits = vec![
            Edit::new(e, Field::Kind, kind.get_untracked()),
            Edit::new(e, Field::Name, optional_text(name)),
            Edit::new(e, Field::Status, status.get_untracked()),
            Edit::new(e, Field::HoursPerWeek, h),
            Edit::new(e, Field::Note, optional_text(note)),
        ];
        leptos::task::spawn_local(async move {
            if save(
                plans,
                i18n,
                role,
                edits,
                tu_string!(i18n, intervention_saved),
            )
            .await
                && is_new
            {
                for s in [name, hours, note] {
                    s.set(String::new());
                }
            }
        });
    };
    view! {
        <form class="form" novalidate on:submit=submit>
            <label class="field">
                <span>{tu_string!(i18n, filter_kind)}</span>
                <select on:change=move |ev| kind.set(InterventionKind::ALL.into_iter().find(|k| format::intervention_kind(i18n, *k) == event_target_value(&ev)).unwrap_or(InterventionKind::Other))>
                    {InterventionKind::ALL.into_iter().map(|k| view! { <option selected=move || kind.get() == k>{format::intervention_kind(i18n, k)}</option> }).collect_view()}
                </select>
            </label>
            <label class="field"><span>{tu_string!(i18n, name)}</span><input type="text" maxlength="4000" bind:value=name/></label>
            <label class="field">
                <span>{tu_string!(i18n, goal_status_label)}</span>
                <select on:change=move |ev| status.set(InterventionStatus::ALL.into_iter().find(|s| format::intervention_status(i18n, *s) == event_target_value(&ev)).unwrap_or_default())>
                    {InterventionStatus::ALL.into_iter().map(|s| view! { <option selected=move || status.get() == s>{format::intervention_status(i18n, s)}</option> }).collect_view()}
                </select>
            </label>
            <label class="field"><span>{tu_string!(i18n, hours_label)}</span><input type="text" inputmode="decimal" bind:value=hours/></label>
            <label class="field"><span>{tu_string!(i18n, note)}</span><textarea rows="2" maxlength="4000" bind:value=note></textarea></label>
            {move || form_error.get().map(|e| view! { <p class="alert" role="alert">{e}</p> })}
            <button type="submit" class="button primary wide">{tu_string!(i18n, save)}</button>
        </form>
    }
}
