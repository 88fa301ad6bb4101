//! Dates, times and domain words in the user's language. Dates go through the browser's Intl
//! (toLocaleDateString), so they follow the locale without shipping locale data in the wasm.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use js_sys::{Object, Reflect};
use koers_core::{
    plan::Intervention, ContactKind, ContactStatus, Field, GoalStatus, InterventionKind,
    InterventionStatus, Perspective, Phase, Plan, Role,
};
use wasm_bindgen::JsValue;

use crate::address::Screen;
use crate::i18n::*;
use leptos_i18n::I18nContext;

fn tag(locale: Locale) -> &'static str {
    match locale {
        Locale::nl => "nl-NL",
        Locale::en => "en-GB",
    }
}

fn options(pairs: &[(&str, &str)]) -> Object {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v));
    }
    o
}

#[cfg(target_arch = "wasm32")]
fn js_date(d: NaiveDate, h: u32, m: u32) -> js_sys::Date {
    js_sys::Date::new_with_year_month_day_hr_min(
        d.year() as u32,
        d.month0() as i32,
        d.day() as i32,
        h as i32,
        m as i32,
    )
}

/// "23 nov 2026" / "23 Nov 2026".
#[cfg(target_arch = "wasm32")]
pub fn date(locale: Locale, d: NaiveDate) -> String {
    js_date(d, 12, 0)
        .to_locale_date_string(
            tag(locale),
            &options(&[("day", "numeric"), ("month", "short"), ("year", "numeric")]),
        )
        .into()
}

/// "ma 23 nov, 14:00".
#[cfg(target_arch = "wasm32")]
pub fn date_time(locale: Locale, t: NaiveDateTime) -> String {
    js_date(t.date(), t.hour(), t.minute())
        .to_locale_string(
            tag(locale),
            &options(&[
                ("weekday", "short"),
                ("day", "numeric"),
                ("month", "short"),
                ("hour", "2-digit"),
                ("minute", "2-digit"),
            ]),
        )
        .into()
}

/// Natively, in the app's unit tests (`home_top.rs`), there is no browser and no Intl: dates are
/// written as Chromium's Intl writes them for nl-NL and en-GB, so the words tested are the words
/// shown.
#[cfg(not(target_arch = "wasm32"))]
pub fn date(locale: Locale, d: NaiveDate) -> String {
    format!("{} {} {}", d.day(), native::month(locale, d), d.year())
}

#[cfg(not(target_arch = "wasm32"))]
pub fn date_time(locale: Locale, t: NaiveDateTime) -> String {
    format!(
        "{} {} {}, {:02}:{:02}",
        native::weekday(locale, t.date()),
        t.day(),
        native::month(locale, t.date()),
        t.hour(),
        t.minute()
    )
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::*;

    pub fn month(locale: Locale, d: NaiveDate) -> &'static str {
        let months = match locale {
            Locale::nl => [
                "jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
            ],
            Locale::en => [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sept", "Oct", "Nov", "Dec",
            ],
        };
        months[d.month0() as usize]
    }

    pub fn weekday(locale: Locale, d: NaiveDate) -> &'static str {
        let days = match locale {
            Locale::nl => ["ma", "di", "wo", "do", "vr", "za", "zo"],
            Locale::en => ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        };
        days[d.weekday().num_days_from_monday() as usize]
    }
}

/// "14:05", from milliseconds since the epoch.
pub fn time_of(locale: Locale, millis: f64) -> String {
    js_sys::Date::new(&JsValue::from_f64(millis))
        .to_locale_time_string_with_options(
            tag(locale),
            &options(&[("hour", "2-digit"), ("minute", "2-digit")]),
        )
        .into()
}

/// "23 nov, 14:05", from a server timestamp (RFC 3339, UTC), in the phone's time zone.
pub fn instant(locale: Locale, rfc3339: &str) -> String {
    day_and_time(locale, js_sys::Date::new(&JsValue::from_str(rfc3339)))
}

/// "23 nov, 14:05", from milliseconds since the epoch (as in a change's clock).
pub fn at_millis(locale: Locale, millis: f64) -> String {
    day_and_time(locale, js_sys::Date::new(&JsValue::from_f64(millis)))
}

fn day_and_time(locale: Locale, d: js_sys::Date) -> String {
    d.to_locale_string(
        tag(locale),
        &options(&[
            ("day", "numeric"),
            ("month", "short"),
            ("hour", "2-digit"),
            ("minute", "2-digit"),
        ]),
    )
    .into()
}

/// What the server's refusal (its error `code`) means for the user, and what to do.
pub fn refusal(i18n: I18nContext<Locale>, code: &str) -> String {
    match code {
        "not_allowed" | "not_your_member" => tu_string!(i18n, refused_not_allowed).to_string(),
        "clock_ahead" => tu_string!(i18n, refused_clock_ahead).to_string(),
        "plan_unknown" | "member_unknown" => tu_string!(i18n, refused_plan_unknown).to_string(),
        "server_error" => tu_string!(i18n, refused_server_error).to_string(),
        // The server's limits: nothing was stored, and the phone keeps what waits.
        "daily_limit" => tu_string!(i18n, refused_daily_limit).to_string(),
        "item_limit" => tu_string!(i18n, refused_item_limit).to_string(),
        "plan_too_large" => tu_string!(i18n, refused_plan_too_large).to_string(),
        "rate_limited" => tu_string!(i18n, refused_rate_limited).to_string(),
        "too_many_streams" => tu_string!(i18n, refused_too_many_streams).to_string(),
        "token_unknown" | "token_missing" => tu_string!(i18n, access_unknown).to_string(),
        "device_revoked" | "member_removed" | "token_revoked" => {
            tu_string!(i18n, refused_revoked).to_string()
        }
        _ => tu_string!(i18n, refused_other, code = code).to_string(),
    }
}

/// What went wrong with a professional's call (enrolling, signing in, the administrator's), and
/// what to do.
pub fn account_problem(i18n: I18nContext<Locale>, e: &crate::sync::SyncError) -> String {
    use crate::sync::SyncError;
    let code = match e {
        SyncError::Offline => return tu_string!(i18n, account_offline).to_string(),
        SyncError::Malformed | SyncError::Storage(_) => {
            return tu_string!(i18n, error_storage).to_string()
        }
        SyncError::Rejected { code, .. } => code.as_str(),
    };
    match code {
        "enrolment_used" => tu_string!(i18n, enrol_used),
        "enrolment_expired" => tu_string!(i18n, enrol_expired),
        "enrolment_revoked" => tu_string!(i18n, enrol_revoked),
        "enrolment_unknown" => tu_string!(i18n, enrol_unknown),
        "passkey_refused" => tu_string!(i18n, passkey_refused),
        "passkey_unknown" => tu_string!(i18n, passkey_unknown),
        "ceremony_expired" => tu_string!(i18n, ceremony_expired),
        "too_many_attempts" => tu_string!(i18n, too_many_attempts),
        "account_deactivated" => tu_string!(i18n, account_deactivated),
        "not_an_administrator" => tu_string!(i18n, not_an_administrator),
        c if c.starts_with("session_") => tu_string!(i18n, session_ended),
        other => return refusal(i18n, other),
    }
    .to_string()
}

/// Why the browser's passkey ceremony did not go through.
pub fn passkey_problem(i18n: I18nContext<Locale>, e: &crate::passkey::PasskeyError) -> String {
    use crate::passkey::PasskeyError;
    match e {
        PasskeyError::Cancelled => tu_string!(i18n, passkey_cancelled).to_string(),
        PasskeyError::Unsupported => tu_string!(i18n, passkey_unsupported).to_string(),
        PasskeyError::AlreadyHere => tu_string!(i18n, passkey_already_here).to_string(),
        PasskeyError::Failed(reason) => {
            tu_string!(i18n, passkey_failed, reason = reason.clone()).to_string()
        }
    }
}

/// A line of the access log's action (a stable key: `read`, `signed_in`, …) in words; a key this
/// version does not know is shown as it is.
pub fn access_action(locale: Locale, action: &str) -> String {
    match action {
        "read" => td_string!(locale, log_read),
        "changed" => td_string!(locale, log_changed),
        "founded" => td_string!(locale, log_founded),
        "signed_in" => td_string!(locale, log_signed_in),
        "enrolled" => td_string!(locale, log_enrolled),
        "invited" => td_string!(locale, log_invited),
        "invited_professional" => td_string!(locale, log_invited_professional),
        "signed_out" => td_string!(locale, log_signed_out),
        "withdrew_enrolment" => td_string!(locale, log_withdrew_enrolment),
        "handed_over" => td_string!(locale, log_handed_over),
        "deactivated" => td_string!(locale, log_deactivated),
        "device_registered" => td_string!(locale, log_device_registered),
        other => return other.replace('_', " "),
    }
    .to_string()
}

/// A tab's name in the tab bar (`route::TABS`); other screens have none.
pub fn tab_label(locale: Locale, tab: Screen) -> &'static str {
    match tab {
        Screen::Home => td_string!(locale, tab_home),
        Screen::Goals => td_string!(locale, goals_title),
        Screen::Contacts => td_string!(locale, tab_contacts),
        Screen::Phases => td_string!(locale, phases_title),
        Screen::Evaluations => td_string!(locale, evaluations_title),
        Screen::Network => td_string!(locale, tab_network),
        Screen::More => td_string!(locale, more_title),
        _ => "",
    }
}

pub fn role(locale: Locale, r: Role) -> &'static str {
    match r {
        Role::Parent => td_string!(locale, role_parent),
        Role::FosterParent => td_string!(locale, role_foster_parent),
        Role::Guardian => td_string!(locale, role_guardian),
        Role::FosterCareWorker => td_string!(locale, role_foster_care_worker),
        Role::CareWorker => td_string!(locale, role_care_worker),
        Role::Youth => td_string!(locale, role_youth),
    }
}

pub fn phase(locale: Locale, p: Phase) -> &'static str {
    match p {
        Phase::Mandate => td_string!(locale, phase_0),
        Phase::Goals => td_string!(locale, phase_1),
        Phase::Execution => td_string!(locale, phase_2),
        Phase::StrengtheningHome => td_string!(locale, phase_3),
        Phase::AfterCare => td_string!(locale, phase_4),
    }
}

/// What a phase means, in plain words; for the child (`youth`) in words addressed to them.
pub fn phase_explained(locale: Locale, p: Phase, youth: bool) -> &'static str {
    match (p, youth) {
        (Phase::Mandate, false) => td_string!(locale, phase_0_explained),
        (Phase::Goals, false) => td_string!(locale, phase_1_explained),
        (Phase::Execution, false) => td_string!(locale, phase_2_explained),
        (Phase::StrengtheningHome, false) => td_string!(locale, phase_3_explained),
        (Phase::AfterCare, false) => td_string!(locale, phase_4_explained),
        (Phase::Mandate, true) => td_string!(locale, phase_0_for_youth),
        (Phase::Goals, true) => td_string!(locale, phase_1_for_youth),
        (Phase::Execution, true) => td_string!(locale, phase_2_for_youth),
        (Phase::StrengtheningHome, true) => td_string!(locale, phase_3_for_youth),
        (Phase::AfterCare, true) => td_string!(locale, phase_4_for_youth),
    }
}

pub fn contact_kind(locale: Locale, k: ContactKind) -> &'static str {
    match k {
        ContactKind::Visit => td_string!(locale, kind_visit),
        ContactKind::Phone => td_string!(locale, kind_phone),
        ContactKind::Video => td_string!(locale, kind_video),
        ContactKind::Message => td_string!(locale, kind_message),
        ContactKind::Meeting => td_string!(locale, kind_meeting),
    }
}

pub fn contact_status(i18n: I18nContext<Locale>, s: ContactStatus) -> &'static str {
    match s {
        ContactStatus::Planned => tu_string!(i18n, status_planned),
        ContactStatus::Happened => tu_string!(i18n, status_happened),
        ContactStatus::Cancelled => tu_string!(i18n, status_cancelled),
        ContactStatus::NoShow => tu_string!(i18n, status_no_show),
    }
}

pub fn rating(i18n: I18nContext<Locale>, r: u8) -> &'static str {
    match r {
        1 => tu_string!(i18n, rating_1),
        2 => tu_string!(i18n, rating_2),
        3 => tu_string!(i18n, rating_3),
        4 => tu_string!(i18n, rating_4),
        _ => tu_string!(i18n, rating_5),
    }
}

pub fn goal_status(i18n: I18nContext<Locale>, s: GoalStatus) -> &'static str {
    match s {
        GoalStatus::Open => tu_string!(i18n, goal_open),
        GoalStatus::Done => tu_string!(i18n, goal_done),
    }
}

pub fn intervention_kind(i18n: I18nContext<Locale>, k: InterventionKind) -> &'static str {
    use InterventionKind as K;
    match k {
        K::Vib => "VIB",
        K::Pcit => "PCIT",
        K::Pmto => "PMTO",
        K::Mst => "MST",
        K::Mdft => "MDFT",
        K::Iag => "IAG",
        K::Ash => "ASH",
        K::SignsOfSafety => "Signs of Safety",
        K::FamiliesFirst => "Families First",
        K::TraumaTreatment => tu_string!(i18n, intervention_trauma),
        K::NetworkDevelopment => tu_string!(i18n, intervention_network),
        K::Other => tu_string!(i18n, intervention_other),
    }
}

/// An intervention by its own name, else by its kind.
pub fn intervention(i18n: I18nContext<Locale>, i: &Intervention) -> String {
    i.name
        .clone()
        .unwrap_or_else(|| intervention_kind(i18n, i.kind).to_string())
}

/// What a field is called in the history of a change.
pub fn field(i18n: I18nContext<Locale>, f: Field) -> &'static str {
    match f {
        Field::Title => tu_string!(i18n, goal_title_label),
        Field::Description => tu_string!(i18n, goal_description_label),
        Field::Owner => tu_string!(i18n, goal_owner_label),
        Field::Priority => tu_string!(i18n, field_priority),
        Field::Status => tu_string!(i18n, goal_status_label),
        Field::Deadline => tu_string!(i18n, goal_deadline_label),
        Field::Intervention => tu_string!(i18n, goal_help_label),
        Field::Deleted => tu_string!(i18n, field_deleted),
        Field::Date => tu_string!(i18n, date),
        Field::Safety => tu_string!(i18n, score_safety),
        Field::Development => tu_string!(i18n, score_development),
        Field::Wellbeing => tu_string!(i18n, score_wellbeing),
        Field::Note => tu_string!(i18n, note),
        Field::At => tu_string!(i18n, field_at),
        Field::Kind => tu_string!(i18n, filter_kind),
        Field::Place => tu_string!(i18n, place),
        Field::Attendees => tu_string!(i18n, who_was_there),
        Field::Participants => tu_string!(i18n, who_took_part),
        Field::DurationMinutes => tu_string!(i18n, duration_minutes),
        Field::Rating => tu_string!(i18n, how_did_it_go),
        Field::CancelReason => tu_string!(i18n, cancel_reason),
        Field::ParentView => tu_string!(i18n, parent_view_label),
        Field::YouthView => tu_string!(i18n, youth_view_label),
        // Hiding someone's words (the worker's moderation), shown in history.
        Field::Hidden => tu_string!(i18n, field_hidden),
        Field::ParentViewHidden => tu_string!(i18n, field_parent_view_hidden),
        Field::YouthViewHidden => tu_string!(i18n, field_youth_view_hidden),
        Field::ChildTookPart => tu_string!(i18n, the_child),
        Field::BigChange => tu_string!(i18n, big_change_label),
        Field::Name => tu_string!(i18n, name),
        Field::Relation => tu_string!(i18n, network_relation),
        Field::HelpsWith => tu_string!(i18n, network_helps),
        Field::Phone => tu_string!(i18n, phone),
        Field::HoursPerWeek => tu_string!(i18n, hours_label),
        Field::Phase => tu_string!(i18n, phase_word),
        Field::ChildName => tu_string!(i18n, child_first_name),
        Field::StartDate => tu_string!(i18n, start_date),
        Field::ContactPerson => tu_string!(i18n, contact_person),
        Field::Outcome => tu_string!(i18n, decision_outcome),
        Field::Reasons => tu_string!(i18n, decision_reasons),
        _ => tu_string!(i18n, field_other),
    }
}

/// A value from a change, in words: roles, statuses and dates translated, text as written.
pub fn value(i18n: I18nContext<Locale>, plan: &Plan, f: Field, v: &serde_json::Value) -> String {
    use serde_json::Value as V;
    let typed = |v: &V| -> Option<String> {
        Some(match f {
            Field::Owner => role(
                i18n.get_locale_untracked(),
                serde_json::from_value(v.clone()).ok()?,
            )
            .to_string(),
            // Statuses and kinds of goals, contact moments and interventions share field names.
            Field::Status => {
                let s = v.as_str()?;
                let read = |s: &str| serde_json::Value::String(s.to_string());
                if let Ok(g) = serde_json::from_value(read(s)) {
                    goal_status(i18n, g).to_string()
                } else if let Ok(c) = serde_json::from_value(read(s)) {
                    contact_status(i18n, c).to_string()
                } else {
                    intervention_status(i18n, serde_json::from_value(read(s)).ok()?).to_string()
                }
            }
            Field::Kind => match serde_json::from_value(v.clone()) {
                Ok(k) => contact_kind(i18n.get_locale_untracked(), k).to_string(),
                Err(_) => {
                    intervention_kind(i18n, serde_json::from_value(v.clone()).ok()?).to_string()
                }
            },
            Field::At => date_time(i18n.get_locale_untracked(), v.as_str()?.parse().ok()?),
            Field::Phase => {
                let p: Phase = serde_json::from_value(v.clone()).ok()?;
                format!("{} {}", p.number(), phase(i18n.get_locale_untracked(), p))
            }
            Field::Outcome => {
                perspective(i18n, serde_json::from_value(v.clone()).ok()?).to_string()
            }
            Field::StartDate => date(i18n.get_locale_untracked(), v.as_str()?.parse().ok()?),
            Field::ContactPerson => {
                let id: koers_core::MemberId = serde_json::from_value(v.clone()).ok()?;
                plan.member_or_former(id)?.name.clone()
            }
            Field::Deadline | Field::Date => {
                date(i18n.get_locale_untracked(), v.as_str()?.parse().ok()?)
            }
            Field::Intervention => {
                let id: koers_core::InterventionId = serde_json::from_value(v.clone()).ok()?;
                intervention(i18n, plan.interventions.iter().find(|i| i.id == id)?)
            }
            _ => return None,
        })
    };
    match v {
        V::Null => "—".to_string(),
        V::Bool(true) => tu_string!(i18n, yes).to_string(),
        V::Bool(false) => tu_string!(i18n, no).to_string(),
        V::String(s) => typed(v).unwrap_or_else(|| s.clone()),
        V::Number(n) if f == Field::Rating => n
            .as_u64()
            .map_or_else(|| n.to_string(), |r| rating(i18n, r as u8).to_string()),
        V::Number(n) => n.to_string(),
        V::Array(items) => items
            .iter()
            .map(|item| match serde_json::from_value(item.clone()) {
                Ok(r) => role(i18n.get_locale_untracked(), r).to_string(),
                Err(_) => item.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

pub fn perspective(i18n: I18nContext<Locale>, p: Perspective) -> &'static str {
    match p {
        Perspective::Home => tu_string!(i18n, perspective_home),
        Perspective::FosterFamily => tu_string!(i18n, perspective_foster_family),
    }
}

/// "november 2026".
pub fn month(locale: Locale, year: i32, month: u32) -> String {
    js_sys::Date::new_with_year_month_day(year as u32, month as i32 - 1, 15)
        .to_locale_date_string(
            tag(locale),
            &options(&[("month", "long"), ("year", "numeric")]),
        )
        .into()
}

pub fn intervention_status(i18n: I18nContext<Locale>, s: InterventionStatus) -> &'static str {
    match s {
        InterventionStatus::Planned => tu_string!(i18n, intervention_planned),
        InterventionStatus::Running => tu_string!(i18n, intervention_running),
        InterventionStatus::Finished => tu_string!(i18n, intervention_finished),
        InterventionStatus::Stopped => tu_string!(i18n, intervention_stopped),
    }
}

/// Hours to the nearest half, with the locale's decimal sign ("1,5" / "1.5"). Whole numbers
/// only: float formatting would add kilobytes of wasm.
pub fn hours(locale: Locale, h: f32) -> String {
    let halves = (h * 2.0).round() as u32;
    let comma = if locale == Locale::nl { ',' } else { '.' };
    if halves.is_multiple_of(2) {
        (halves / 2).to_string()
    } else {
        format!("{}{comma}5", halves / 2)
    }
}

/// One of the member's own open actions, in words.
pub fn open_action(l: Locale, a: &koers_core::caseload::OpenAction) -> String {
    match a {
        koers_core::caseload::OpenAction::GiveConsent => {
            td_string!(l, action_give_consent).to_string()
        }
        koers_core::caseload::OpenAction::GoalOverdue {
            title, deadline, ..
        } => td_string!(
            l,
            action_goal_overdue,
            goal = title,
            date = date(l, *deadline)
        )
        .to_string(),
        koers_core::caseload::OpenAction::PrepareEvaluation { due } => {
            td_string!(l, action_prepare_evaluation, date = date(l, *due)).to_string()
        }
    }
}

/// What went wrong, and what to do about it, in the user's language.
pub fn explain(locale: Locale, e: &crate::device::ChangeError) -> String {
    use koers_core::Refusal;
    use koers_store::StoreError;
    match e {
        crate::device::ChangeError::NoMember => td_string!(locale, error_no_member).to_string(),
        crate::device::ChangeError::NotLoaded => td_string!(locale, error_not_loaded).to_string(),
        crate::device::ChangeError::Refused(Refusal::NotAllowed { .. } | Refusal::NotAMember) => {
            td_string!(locale, error_not_allowed).to_string()
        }
        crate::device::ChangeError::Refused(Refusal::Phase(_)) => {
            td_string!(locale, error_phase).to_string()
        }
        crate::device::ChangeError::Refused(Refusal::NotTheWriter { .. }) => {
            td_string!(locale, error_not_writer).to_string()
        }
        crate::device::ChangeError::Refused(_) => td_string!(locale, error_invalid).to_string(),
        crate::device::ChangeError::Storage(StoreError::QuotaExceeded) => {
            td_string!(locale, error_quota).to_string()
        }
        crate::device::ChangeError::Storage(_) => td_string!(locale, error_storage).to_string(),
    }
}

/// How many items wait for the server, in words.
pub fn waiting(locale: Locale, items: usize) -> String {
    match items {
        0 => td_string!(locale, sync_all_sent).to_string(),
        1 => td_string!(locale, sync_pending_one).to_string(),
        n => td_string!(locale, sync_pending, count = n).to_string(),
    }
}

/// The roles the example plan has a member for, one of which a phone speaks for, in the order
/// they are offered.
pub const ROLES: [Role; 5] = [
    Role::Parent,
    Role::FosterParent,
    Role::Guardian,
    Role::FosterCareWorker,
    Role::Youth,
];

/// "Volgend contact: …" for the next planned contact moment from `now` on, or that none is.
pub fn next_contact(locale: Locale, plan: &Plan, now: chrono::NaiveDateTime) -> String {
    match plan.next_planned_contact(now) {
        Some(c) => td_string!(
            locale,
            next_contact,
            kind = contact_kind(locale, c.kind),
            when = date_time(locale, c.at),
            place = c
                .place
                .as_ref()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default()
        )
        .to_string(),
        None => td_string!(locale, next_contact_none).to_string(),
    }
}

/// A reminder in words.
pub fn reminder(locale: Locale, r: &koers_core::Reminder) -> String {
    match r {
        koers_core::Reminder::ContactSoon { at, kind, .. } => td_string!(
            locale,
            reminder_contact,
            kind = contact_kind(locale, *kind),
            when = date_time(locale, *at)
        )
        .to_string(),
        koers_core::Reminder::EvaluationDue { due, days_left } => td_string!(
            locale,
            reminder_evaluation_due,
            date = date(locale, *due),
            days = *days_left
        )
        .to_string(),
        koers_core::Reminder::EvaluationOverdue { days_over, .. } => {
            td_string!(locale, reminder_evaluation_overdue, days = *days_over).to_string()
        }
        koers_core::Reminder::DeadlineNearing {
            deadline,
            days_left,
        } => td_string!(
            locale,
            reminder_deadline_nearing,
            date = date(locale, *deadline),
            days = *days_left
        )
        .to_string(),
        koers_core::Reminder::DeadlinePassed { days_over, .. } => {
            td_string!(locale, reminder_deadline_passed, days = *days_over).to_string()
        }
    }
}
