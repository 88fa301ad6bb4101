//! The app's addresses: which plan and which screen. No Leptos here, so the first paint
//! (`glance.rs`) and the device code read them too; `route.rs` keeps the app in step with them.
//!
//! A plan's screens live under `/p/<plan>/…` (`/p/<plan>/doelen`), so a link, a notification or
//! the back button opens the right plan. The addresses from before several plans (`/doelen`)
//! still work: they open the plan used last.

use koers_core::{GoalId, PlanId};
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Home,
    /// "Mijn gezinnen": every plan on this phone, what needs attention first.
    Caseload,
    ChooseRole,
    LogContact,
    PlanContact,
    Contacts,
    /// `/uitnodiging#<code>`: join a shared plan.
    Join,
    NewPlan,
    Members,
    Goals,
    /// One goal: its details, comments and history.
    Goal(GoalId),
    Phases,
    Evaluations,
    More,
    Network,
    /// The plan summary, laid out for printing.
    Summary,
    /// `/inschrijven#<code>`: a professional enrols with a passkey.
    Enrol,
    /// `/aanmelden`: a professional signs in with a passkey.
    SignIn,
    /// `/beheer`: the organisation's administrator.
    Admin,
    NotFound,
}

/// The plan's screens in the bottom bar: the four used most, then *Meer* (every other screen).
pub const TABS: [Screen; 5] = [
    Screen::Home,
    Screen::Goals,
    Screen::Contacts,
    Screen::Phases,
    Screen::More,
];

impl Screen {
    /// Whether the screen shows one plan (else it is the phone's: the overview, joining, …).
    pub fn of_a_plan(self) -> bool {
        !matches!(
            self,
            Screen::Caseload
                | Screen::Join
                | Screen::NewPlan
                | Screen::Enrol
                | Screen::SignIn
                | Screen::Admin
                | Screen::NotFound
        )
    }

    /// The address of this screen of `plan` (or of the phone, for the phone's screens).
    pub fn path_in(self, plan: Option<PlanId>) -> String {
        let rest = match self {
            Screen::Home | Screen::NotFound => "",
            Screen::Caseload => return "/gezinnen".into(),
            Screen::Join => return "/uitnodiging".into(),
            Screen::NewPlan => return "/plan/nieuw".into(),
            Screen::Enrol => return "/inschrijven".into(),
            Screen::SignIn => return "/aanmelden".into(),
            Screen::Admin => return "/beheer".into(),
            Screen::ChooseRole => "/rol",
            Screen::LogContact => "/contact/nieuw",
            Screen::PlanContact => "/contact/plannen",
            Screen::Contacts => "/contact",
            Screen::Members => "/plan/deelnemers",
            Screen::Goals => "/doelen",
            Screen::Goal(id) => return format!("{}/doelen/{}", prefix(plan), id.0),
            Screen::Phases => "/fasen",
            Screen::Evaluations => "/evaluaties",
            Screen::More => "/meer",
            Screen::Network => "/netwerk",
            Screen::Summary => "/overzicht",
        };
        match (plan, rest) {
            (None, "") => "/".into(),
            (plan, rest) => format!("{}{rest}", prefix(plan)),
        }
    }

    /// The tab a screen is reached from: one goal under the goals, logging or planning a
    /// contact moment under the contact moments, the less used screens under *Meer*.
    pub fn tab(self) -> Screen {
        match self {
            Screen::Goal(_) => Screen::Goals,
            Screen::LogContact | Screen::PlanContact => Screen::Contacts,
            Screen::Evaluations | Screen::Network | Screen::Summary | Screen::Members => {
                Screen::More
            }
            other => other,
        }
    }
}

fn prefix(plan: Option<PlanId>) -> String {
    plan.map(|p| format!("/p/{}", p.0)).unwrap_or_default()
}

/// A parsed address: the plan it names (none for the old addresses and the phone's screens) and
/// the screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Address {
    pub plan: Option<PlanId>,
    pub screen: Screen,
}

impl Address {
    /// The address bar's.
    pub fn current() -> Address {
        let path = web_sys::window().and_then(|w| w.location().pathname().ok());
        Address::parse(&path.unwrap_or_default())
    }

    pub fn parse(path: &str) -> Address {
        let path = path.trim_end_matches('/');
        if let Some(rest) = path.strip_prefix("/p/") {
            let (id, screen) = rest.split_once('/').unwrap_or((rest, ""));
            return match Uuid::parse_str(id) {
                Ok(id) => {
                    let screen = match screen_of(&format!("/{screen}")) {
                        // A plan's address never names the phone's screens.
                        s if s.of_a_plan() => s,
                        _ => Screen::NotFound,
                    };
                    Address {
                        plan: Some(PlanId(id)),
                        screen,
                    }
                }
                Err(_) => Address {
                    plan: None,
                    screen: Screen::NotFound,
                },
            };
        }
        Address {
            plan: None,
            screen: screen_of(path),
        }
    }
}

fn screen_of(path: &str) -> Screen {
    match path.trim_end_matches('/') {
        "" | "/index.html" => Screen::Home,
        "/gezinnen" => Screen::Caseload,
        "/rol" => Screen::ChooseRole,
        "/contact/nieuw" => Screen::LogContact,
        "/contact/plannen" => Screen::PlanContact,
        "/contact" => Screen::Contacts,
        "/uitnodiging" => Screen::Join,
        "/plan/nieuw" => Screen::NewPlan,
        "/inschrijven" => Screen::Enrol,
        "/aanmelden" => Screen::SignIn,
        "/beheer" => Screen::Admin,
        "/plan/deelnemers" => Screen::Members,
        "/doelen" => Screen::Goals,
        "/fasen" => Screen::Phases,
        "/evaluaties" => Screen::Evaluations,
        "/meer" => Screen::More,
        "/netwerk" => Screen::Network,
        "/overzicht" => Screen::Summary,
        other => other
            .strip_prefix("/doelen/")
            .and_then(|id| id.parse().ok())
            .map_or(Screen::NotFound, |id| Screen::Goal(GoalId(id))),
    }
}
