//! The app's screens, kept in step with the address bar through the History API.
//!
//! leptos_router was dropped for this: it cost 110 KB of wasm (43 KB gzip, about 30% of the
//! first-load budget) to tell three paths apart.

use koers_core::GoalId;
use leptos::ev;
use leptos::prelude::*;

use crate::store::Notice;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Home,
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
    NotFound,
}

impl Screen {
    pub fn path(self) -> String {
        match self {
            Screen::Home | Screen::NotFound => "/",
            Screen::ChooseRole => "/rol",
            Screen::LogContact => "/contact/nieuw",
            Screen::PlanContact => "/contact/plannen",
            Screen::Contacts => "/contact",
            Screen::Join => "/uitnodiging",
            Screen::NewPlan => "/plan/nieuw",
            Screen::Members => "/plan/deelnemers",
            Screen::Goals => "/doelen",
            Screen::Goal(id) => return format!("/doelen/{}", id.0),
            Screen::Phases => "/fasen",
            Screen::Evaluations => "/evaluaties",
            Screen::More => "/meer",
            Screen::Network => "/netwerk",
            Screen::Summary => "/overzicht",
        }
        .to_string()
    }

    /// The screen the address bar shows.
    pub fn current() -> Screen {
        let path = web_sys::window().and_then(|w| w.location().pathname().ok());
        Screen::from_path(&path.unwrap_or_default())
    }

    /// The tab a screen is reached from: one goal under the goals, logging or planning a
    /// contact moment under the contact moments.
    pub fn tab(self) -> Screen {
        match self {
            Screen::Goal(_) => Screen::Goals,
            Screen::LogContact | Screen::PlanContact => Screen::Contacts,
            other => other,
        }
    }

    fn from_path(path: &str) -> Screen {
        match path.trim_end_matches('/') {
            "" | "/index.html" => Screen::Home,
            "/rol" => Screen::ChooseRole,
            "/contact/nieuw" => Screen::LogContact,
            "/contact/plannen" => Screen::PlanContact,
            "/contact" => Screen::Contacts,
            "/uitnodiging" => Screen::Join,
            "/plan/nieuw" => Screen::NewPlan,
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
}

/// The plan's main screens, in the tab bar's order.
pub const TABS: [Screen; 7] = [
    Screen::Home,
    Screen::Goals,
    Screen::Contacts,
    Screen::Phases,
    Screen::Evaluations,
    Screen::Network,
    Screen::More,
];

/// The current screen; `go` changes it and the address bar together. A notice belongs to the
/// screen it was given on, so moving on clears it (unless the move `carry`s it).
#[derive(Clone, Copy)]
pub struct Nav {
    pub screen: ReadSignal<Screen>,
    set_screen: WriteSignal<Screen>,
    notice: RwSignal<Option<Notice>>,
}

impl Nav {
    /// Follows the address bar, including the back button.
    pub fn new(notice: RwSignal<Option<Notice>>) -> Nav {
        let (screen, set_screen) = signal(Screen::current());
        let handle = window_event_listener(ev::popstate, move |_| {
            notice.set(None);
            set_screen.set(Screen::current())
        });
        on_cleanup(move || handle.remove());
        Nav {
            screen,
            set_screen,
            notice,
        }
    }

    pub fn go(self, to: Screen) {
        self.notice.set(None);
        self.carry(to);
    }

    /// Moves on with the current notice: the confirmation of what was just done there.
    pub fn carry(self, to: Screen) {
        if let Ok(history) = window().history() {
            let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&to.path()));
        }
        self.set_screen.set(to);
        window().scroll_to_with_x_and_y(0.0, 0.0);
    }
}

/// A link to a screen: a real `<a href>` (so it can be opened in a new tab), handled in the app.
#[component]
pub fn Link(
    nav: Nav,
    to: Screen,
    #[prop(optional)] class: &'static str,
    #[prop(optional)] testid: &'static str,
    /// Marks the link as the page being shown (in the tab bar).
    #[prop(optional, into)]
    current: Signal<bool>,
    children: Children,
) -> impl IntoView {
    let follow = move |e: ev::MouseEvent| {
        if !(e.ctrl_key() || e.meta_key() || e.shift_key() || e.alt_key()) {
            e.prevent_default();
            nav.go(to);
        }
    };
    view! {
        <a href=to.path() class=class data-testid=(!testid.is_empty()).then_some(testid)
            aria-current=move || current.get().then_some("page") on:click=follow>{children()}</a>
    }
}
