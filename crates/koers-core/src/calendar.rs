//! The planned contact moments as an iCalendar file (RFC 5545), so parents can put visits in
//! their phone's calendar. Written by hand: the `icalendar` crate's builder would bring a wall
//! clock and random ids into the core; it is used in the tests to read the output back.

use chrono::{DateTime, Duration, Utc};

use crate::model::ContactStatus;
use crate::plan::{ContactMoment, Plan};

/// Length of a contact moment whose duration was not filled in.
pub const DEFAULT_MINUTES: u16 = 60;
/// RFC 5545 3.1: content lines are at most this many octets, without the line break.
const MAX_LINE_OCTETS: usize = 75;

/// An `.ics` file with one event per planned contact moment of `plan`. `summary` gives each
/// event's title (the app passes a translated one); `now` is the DTSTAMP. The plan's times are
/// the family's local times, so they are written as floating times, without a zone.
pub fn planned_ics(
    plan: &Plan,
    summary: impl Fn(&ContactMoment) -> String,
    now: DateTime<Utc>,
) -> String {
    let mut out = String::new();
    let mut line = |name: &str, value: &str| fold_into(&mut out, &format!("{name}:{value}"));
    line("BEGIN", "VCALENDAR");
    line("VERSION", "2.0");
    line("PRODID", "-//Koers//Koers plan//NL");
    line("CALSCALE", "GREGORIAN");
    line("METHOD", "PUBLISH");
    let stamp = format!("{}Z", basic(now.naive_utc()));
    for moment in plan
        .contact_moments
        .iter()
        .filter(|c| c.status == ContactStatus::Planned)
    {
        let minutes = moment
            .duration_minutes
            .filter(|m| *m > 0)
            .unwrap_or(DEFAULT_MINUTES);
        let end = moment.at + Duration::minutes(minutes.into());
        line("BEGIN", "VEVENT");
        line("UID", &format!("{}@koers", moment.id));
        line("DTSTAMP", &stamp);
        line("DTSTART", &basic(moment.at));
        line("DTEND", &basic(end));
        line("SUMMARY", &escape_text(&summary(moment)));
        if let Some(place) = moment.place.as_deref().filter(|p| !p.trim().is_empty()) {
            line("LOCATION", &escape_text(place));
        }
        if let Some(note) = moment.note.as_deref().filter(|n| !n.trim().is_empty()) {
            line("DESCRIPTION", &escape_text(note));
        }
        line("END", "VEVENT");
    }
    line("END", "VCALENDAR");
    out
}

/// `20261124T150000`, written directly: chrono's `format` would add its format-string parser
/// to the app's wasm.
fn basic(t: chrono::NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// RFC 5545 3.3.11 TEXT: backslash, semicolon and comma are escaped, line breaks become `\n`,
/// and other control characters (not allowed in TEXT) are dropped.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded (CRLF + space) so that no line is longer than 75 octets and
/// no UTF-8 character is split across lines.
fn fold_into(out: &mut String, line: &str) {
    let mut room = MAX_LINE_OCTETS;
    let mut used = 0;
    for c in line.chars() {
        if used + c.len_utf8() > room {
            out.push_str("\r\n ");
            // The leading space counts toward the next line's 75 octets.
            room = MAX_LINE_OCTETS - 1;
            used = 0;
        }
        out.push(c);
        used += c.len_utf8();
    }
    out.push_str("\r\n");
}
