//! The planned contact moments as an .ics file, read back with the `icalendar` crate's parser.

use chrono::{NaiveDate, TimeZone, Utc};
use icalendar::{Calendar, CalendarComponent, Component, DatePerhapsTime, EventLike};
use koers_core::plan::ContactMoment;
use koers_core::*;
use uuid::Uuid;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn demo_plan() -> Plan {
    Plan::from_replica(&Replica::from_ops(demo::PLAN, &demo::plan_ops(today())))
}

fn summary(c: &ContactMoment) -> String {
    format!("Koers: {:?}", c.kind)
}

fn ics(plan: &Plan) -> String {
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 8, 30, 0).unwrap();
    calendar::planned_ics(plan, summary, now)
}

fn events(text: &str) -> Vec<icalendar::Event> {
    let cal: Calendar = text.parse().expect("the file parses as iCalendar");
    cal.components
        .into_iter()
        .filter_map(|c| match c {
            CalendarComponent::Event(e) => Some(e),
            _ => None,
        })
        .collect()
}

fn floating(at: chrono::NaiveDateTime) -> Option<DatePerhapsTime> {
    Some(DatePerhapsTime::DateTime(
        icalendar::CalendarDateTime::Floating(at),
    ))
}

/// The demo plan with more planned moments: one with a long Dutch note full of special
/// characters, one without a duration, and one happened and one cancelled that must stay out.
fn busy_plan() -> (Plan, String) {
    let note = "Neem de fiets mee; we gaan naar het bos, daarna naar café De Eeuwige Jeugd.\n\
                Noa's oma (Riet) komt ook — ze brengt de poffertjes mee, als het lukt.\r\n\
                Regel 3: een backslash \\ en een puntkomma; klaar. Overleg met Zoë en Anaïs.";
    let mut plan = demo_plan();
    let template = plan
        .contact_moments
        .iter()
        .find(|c| c.status == ContactStatus::Planned)
        .unwrap()
        .clone();
    let moment = |n: u128, status, note: Option<&str>, minutes| ContactMoment {
        id: ContactMomentId(Uuid::from_u128(n)),
        at: today().and_hms_opt(10 + n as u32, 0, 0).unwrap() + chrono::Days::new(n as u64),
        status,
        note: note.map(str::to_owned),
        duration_minutes: minutes,
        place: (n == 1).then(|| "Bij oma, Kerkstraat 1, Utrecht".to_owned()),
        ..template.clone()
    };
    plan.contact_moments.extend([
        moment(1, ContactStatus::Planned, Some(note), Some(90)),
        moment(2, ContactStatus::Planned, None, None),
        moment(3, ContactStatus::Happened, Some("Was leuk"), Some(60)),
        moment(4, ContactStatus::Cancelled, None, Some(60)),
        moment(5, ContactStatus::NoShow, None, Some(60)),
    ]);
    (plan, note.replace("\r\n", "\n"))
}

#[test]
fn each_planned_visit_becomes_one_event_at_its_local_time() {
    let plan = demo_plan();
    let planned: Vec<&ContactMoment> = plan
        .contact_moments
        .iter()
        .filter(|c| c.status == ContactStatus::Planned)
        .collect();
    assert_eq!(planned.len(), 1, "the demo plan has one planned visit");
    let text = ics(&plan);
    assert!(text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:"));
    assert!(text.ends_with("END:VCALENDAR\r\n"));

    let events = events(&text);
    assert_eq!(events.len(), 1);
    let (event, visit) = (&events[0], planned[0]);
    assert_eq!(
        event.get_uid(),
        Some(format!("{}@koers", visit.id).as_str())
    );
    assert_eq!(event.get_summary(), Some("Koers: Visit"));
    assert_eq!(event.get_location(), Some("Bij Mirjam thuis"));
    assert_eq!(event.get_description(), None, "no note, no description");
    assert_eq!(event.get_start(), floating(visit.at));
    // No duration filled in: an hour.
    assert_eq!(
        event.get_end(),
        floating(visit.at + chrono::Duration::minutes(60))
    );
    assert_eq!(
        event.get_timestamp(),
        Some(Utc.with_ymd_and_hms(2026, 11, 23, 8, 30, 0).unwrap())
    );
    assert!(text.contains("\r\nDTSTAMP:20261123T083000Z\r\n"));
    assert!(text.contains(&format!(
        "\r\nDTSTART:{}\r\n",
        visit.at.format("%Y%m%dT%H%M%S")
    )));
}

#[test]
fn happened_cancelled_and_missed_moments_are_left_out() {
    let (plan, _) = busy_plan();
    let events = events(&ics(&plan));
    let uids: Vec<&str> = events.iter().filter_map(|e| e.get_uid()).collect();
    let uid = |n: u128| format!("{}@koers", Uuid::from_u128(n));
    assert_eq!(events.len(), 3);
    assert!(uids.contains(&uid(1).as_str()) && uids.contains(&uid(2).as_str()));
    for gone in [3, 4, 5] {
        assert!(!uids.contains(&uid(gone).as_str()), "moment {gone}");
    }
    let no_plans = Plan {
        contact_moments: vec![],
        ..plan
    };
    assert!(events_of_empty(&no_plans));
}

fn events_of_empty(plan: &Plan) -> bool {
    let text = ics(plan);
    events(&text).is_empty() && text.contains("BEGIN:VCALENDAR") && text.contains("END:VCALENDAR")
}

#[test]
fn notes_with_commas_accents_and_line_breaks_survive_escaping_and_folding() {
    let (plan, note) = busy_plan();
    let text = ics(&plan);
    let events = events(&text);
    let event = events
        .iter()
        .find(|e| e.get_uid() == Some(&format!("{}@koers", Uuid::from_u128(1))))
        .unwrap();
    assert_eq!(event.get_description(), Some(note.as_str()));
    assert_eq!(event.get_location(), Some("Bij oma, Kerkstraat 1, Utrecht"));
    let start = today().and_hms_opt(11, 0, 0).unwrap() + chrono::Days::new(1);
    assert_eq!(
        event.get_end(),
        floating(start + chrono::Duration::minutes(90))
    );

    // Escaped as RFC 5545 TEXT, on the wire.
    let unfolded = text.replace("\r\n ", "");
    assert!(unfolded.contains("LOCATION:Bij oma\\, Kerkstraat 1\\, Utrecht\r\n"));
    assert!(unfolded.contains("DESCRIPTION:Neem de fiets mee\\; we gaan naar het bos\\, daarna"));
    assert!(
        unfolded.contains("\\nNoa's oma"),
        "a line break is written as \\n"
    );
    assert!(unfolded.contains("een backslash \\\\ en"));

    // Lines: CRLF only, at most 75 octets, folded lines start with a space, and each line is
    // valid UTF-8 on its own (no character split across a fold).
    assert!(!text.replace("\r\n", "").contains(['\r', '\n']));
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines.last(), Some(&""));
    for line in &lines {
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
    let folded = lines.iter().filter(|l| l.starts_with(' ')).count();
    assert!(folded >= 3, "the long note is folded");
}

#[test]
fn folding_counts_octets_and_keeps_characters_whole() {
    // Summaries of every length around the fold, of two- and three-byte characters, so that a
    // fold at exactly 75 octets would fall inside a character.
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 8, 30, 0).unwrap();
    let plan = demo_plan();
    for n in 20..80 {
        let title = "ë€".repeat(n / 2) + &"é".repeat(n % 2);
        let text = calendar::planned_ics(&plan, |_| title.clone(), now);
        for line in text.split("\r\n") {
            assert!(line.len() <= 75);
        }
        let event = &events(&text)[0];
        assert_eq!(event.get_summary(), Some(title.as_str()));
    }
}
