use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use koers_core::{ContactKind, ContactMomentId, ContactStatus, Edit, Entity, Field, Rating, Role};
use leptos::prelude::*;
use uuid::Uuid;

use crate::components::face::Face;
use crate::components::notice::NoticeBar;
use crate::format;
use crate::format::explain;
use crate::forms::optional_text;
use crate::i18n::*;
use crate::plans::{use_plans, Notice};
use crate::route::{Nav, Screen};

/// Log a contact moment: what kind, when, who was there, how long, how it went, a note. Or,
/// with `planned`, plan one: where instead of how it went. Works offline; on any error the form
/// keeps what was typed.
#[component]
pub fn LogContact(
    role: RwSignal<Option<Role>>,
    nav: Nav,
    #[prop(optional)] planned: bool,
) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let now = chrono::Local::now().naive_local();
    let date = RwSignal::new(now.date().to_string()); // YYYY-MM-DD, as <input type=date> wants
    let time = RwSignal::new(format!("{:02}:{:02}", now.hour(), now.minute() / 5 * 5));
    let kind = RwSignal::new(ContactKind::Visit);
    let attendees = RwSignal::new(vec![Role::Parent, Role::FosterParent, Role::Youth]);
    let duration = RwSignal::new(String::from("60"));
    let rating = RwSignal::new(None::<u8>);
    let note = RwSignal::new(String::new());
    let place = RwSignal::new(String::new());
    let saving = RwSignal::new(false);
    let form_error = RwSignal::new(None::<String>);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(role) = role.get_untracked() else {
            return;
        };
        let at = date
            .get_untracked()
            .parse::<NaiveDate>()
            .ok()
            .zip(parse_time(&time.get_untracked()))
            .map(|(d, t)| NaiveDateTime::new(d, t));
        let Some(at) = at else {
            form_error.set(Some(tu_string!(i18n, error_date_time).to_string()));
            return;
        };
        let minutes = duration
            .get_untracked()
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|m| *m <= 24 * 60);
        if minutes.is_none() && !duration.get_untracked().trim().is_empty() {
            form_error.set(Some(tu_string!(i18n, error_duration).to_string()));
            return;
        }
        form_error.set(None);
        let id = Entity::ContactMoment(ContactMomentId(Uuid::new_v4()));
        let edits = vec![
            Edit::new(id, Field::At, at),
            Edit::new(id, Field::Kind, kind.get_untracked()),
            Edit::new(
                id,
                Field::Status,
                if planned {
                    ContactStatus::Planned
                } else {
                    ContactStatus::Happened
                },
            ),
            Edit::new(id, Field::Place, optional_text(place)),
            Edit::new(id, Field::Attendees, attendees.get_untracked()),
            Edit::new(id, Field::DurationMinutes, minutes),
            Edit::new(
                id,
                Field::Rating,
                rating.get_untracked().and_then(Rating::new),
            ),
            Edit::new(id, Field::Note, optional_text(note)),
        ];
        saving.set(true);
        leptos::task::spawn_local(async move {
            match plans.change(role, edits).await {
                Ok(()) => {
                    plans.notice.set(Some(Notice {
                        text: tu_string!(i18n, contact_saved).to_string(),
                        is_error: false,
                    }));
                    nav.carry(if planned {
                        Screen::Contacts
                    } else {
                        Screen::Home
                    });
                }
                Err(e) => {
                    saving.set(false);
                    plans.notice.set(Some(Notice {
                        text: explain(i18n.get_locale_untracked(), &e),
                        is_error: true,
                    }));
                }
            }
        });
    };

    let toggle_attendee = move |r: Role| {
        attendees.update(|list| {
            if let Some(i) = list.iter().position(|x| *x == r) {
                list.remove(i);
            } else {
                list.push(r);
            }
        })
    };

    view! {
        <h1>{if planned { tu_string!(i18n, plan_contact) } else { tu_string!(i18n, log_contact) }}</h1>
        <NoticeBar notice=plans.notice/>
        <form class="card form" novalidate on:submit=submit data-testid="contact-form">
            <fieldset>
                <legend>{tu_string!(i18n, contact_kind)}</legend>
                <div class="choice-row">
                    {ContactKind::ALL.into_iter().map(|k| view! {
                        <label class="choice">
                            <input type="radio" name="kind" prop:checked=move || kind.get() == k
                                on:change=move |_| kind.set(k)/>
                            <span>{format::contact_kind(i18n.get_locale_untracked(), k)}</span>
                        </label>
                    }).collect_view()}
                </div>
            </fieldset>
            <div class="row">
                <label class="field">
                    <span>{tu_string!(i18n, date)}</span>
                    <input type="date" required bind:value=date/>
                </label>
                <label class="field">
                    <span>{tu_string!(i18n, time)}</span>
                    <input type="time" required bind:value=time/>
                </label>
            </div>
            <fieldset>
                <legend>{if planned { tu_string!(i18n, who_will_be_there) } else { tu_string!(i18n, who_was_there) }}</legend>
                <div class="choice-row">
                    {[Role::Parent, Role::FosterParent, Role::Youth, Role::Guardian, Role::FosterCareWorker, Role::CareWorker]
                        .into_iter().map(|r| view! {
                        <label class="choice">
                            <input type="checkbox" prop:checked=move || attendees.with(|a| a.contains(&r))
                                on:change=move |_| toggle_attendee(r)/>
                            <span>{format::role(i18n.get_locale_untracked(), r)}</span>
                        </label>
                    }).collect_view()}
                </div>
            </fieldset>
            <label class="field">
                <span>{tu_string!(i18n, duration_minutes)}</span>
                <input type="number" inputmode="numeric" min="0" max="1440" step="5" bind:value=duration/>
            </label>
            {planned.then(|| view! {
                <label class="field">
                    <span>{tu_string!(i18n, place)}</span>
                    <input type="text" maxlength="4000" bind:value=place/>
                </label>
            })}
            <fieldset class:hidden=planned>
                <legend>{tu_string!(i18n, how_did_it_go)}</legend>
                <div class="rating-row">
                    {(1..=5u8).map(|r| view! {
                        <label class="rating">
                            <input type="radio" name="rating" prop:checked=move || rating.get() == Some(r)
                                on:change=move |_| rating.set(Some(r))/>
                            <span class="face-ring"><Face rating=r/></span>
                            <span class="rating-label">{format::rating(i18n, r)}</span>
                        </label>
                    }).collect_view()}
                </div>
            </fieldset>
            <label class="field">
                <span>{tu_string!(i18n, note)}</span>
                <textarea rows="3" maxlength="4000" bind:value=note></textarea>
            </label>
            {move || form_error.get().map(|e| view! { <p class="alert" role="alert">{e}</p> })}
            <button type="submit" class="button primary wide" disabled=move || saving.get() data-testid="save-contact">
                {tu_string!(i18n, save)}
            </button>
        </form>
    }
}

/// "14:05" (what <input type=time> gives) without chrono's format parser, which costs wasm size.
fn parse_time(text: &str) -> Option<NaiveTime> {
    let (h, m) = text.split_once(':')?;
    let m = m.get(..2).unwrap_or(m);
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}
