//! Dates, times and domain words in the user's language. Dates go through the browser's Intl
//! (toLocaleDateString), so they follow the locale without shipping locale data in the wasm.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use js_sys::{Object, Reflect};
use koers_core::{ContactKind, Phase, Role};
use wasm_bindgen::JsValue;

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
pub fn date(locale: Locale, d: NaiveDate) -> String {
    js_date(d, 12, 0)
        .to_locale_date_string(
            tag(locale),
            &options(&[("day", "numeric"), ("month", "short"), ("year", "numeric")]),
        )
        .into()
}

/// "ma 23 nov, 14:00".
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
    js_sys::Date::new(&JsValue::from_str(rfc3339))
        .to_locale_string(
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

pub fn role(i18n: I18nContext<Locale>, r: Role) -> &'static str {
    match r {
        Role::Parent => t_string!(i18n, role_parent),
        Role::FosterParent => t_string!(i18n, role_foster_parent),
        Role::Guardian => t_string!(i18n, role_guardian),
        Role::FosterCareWorker => t_string!(i18n, role_foster_care_worker),
        Role::CareWorker => t_string!(i18n, role_care_worker),
        Role::Youth => t_string!(i18n, role_youth),
    }
}

pub fn phase(i18n: I18nContext<Locale>, p: Phase) -> &'static str {
    match p {
        Phase::Mandate => t_string!(i18n, phase_0),
        Phase::Goals => t_string!(i18n, phase_1),
        Phase::Execution => t_string!(i18n, phase_2),
        Phase::StrengtheningHome => t_string!(i18n, phase_3),
        Phase::AfterCare => t_string!(i18n, phase_4),
    }
}

pub fn phase_explained(i18n: I18nContext<Locale>, p: Phase) -> &'static str {
    match p {
        Phase::Mandate => t_string!(i18n, phase_0_explained),
        Phase::Goals => t_string!(i18n, phase_1_explained),
        Phase::Execution => t_string!(i18n, phase_2_explained),
        Phase::StrengtheningHome => t_string!(i18n, phase_3_explained),
        Phase::AfterCare => t_string!(i18n, phase_4_explained),
    }
}

pub fn contact_kind(i18n: I18nContext<Locale>, k: ContactKind) -> &'static str {
    match k {
        ContactKind::Visit => t_string!(i18n, kind_visit),
        ContactKind::Phone => t_string!(i18n, kind_phone),
        ContactKind::Video => t_string!(i18n, kind_video),
        ContactKind::Message => t_string!(i18n, kind_message),
        ContactKind::Meeting => t_string!(i18n, kind_meeting),
    }
}

pub fn rating(i18n: I18nContext<Locale>, r: u8) -> &'static str {
    match r {
        1 => t_string!(i18n, rating_1),
        2 => t_string!(i18n, rating_2),
        3 => t_string!(i18n, rating_3),
        4 => t_string!(i18n, rating_4),
        _ => t_string!(i18n, rating_5),
    }
}
