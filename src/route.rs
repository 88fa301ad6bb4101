//! Keeps the app in step with the address bar (see `address.rs`) through the History API.
//!
//! leptos_router was dropped for this: it cost 110 KB of wasm (43 KB gzip, about 30% of the
//! first-load budget) to tell three paths apart.

use koers_core::PlanId;
use leptos::ev;
use leptos::prelude::*;

pub use crate::address::{Address, Screen, TABS};
use crate::notice::Notice;

/// The current screen and the plan the address names; `go` changes them and the address bar
/// together. A notice belongs to the screen it was given on, so moving on clears it (unless the
/// move `carry`s it).
#[derive(Clone, Copy)]
pub struct Nav {
    pub screen: ReadSignal<Screen>,
    set_screen: WriteSignal<Screen>,
    /// The plan the address names; `None` on the phone's own screens and the old addresses.
    pub plan: RwSignal<Option<PlanId>>,
    /// The plan shown, for links to its screens.
    pub shown: RwSignal<Option<PlanId>>,
    notice: RwSignal<Option<Notice>>,
}

impl Nav {
    /// Follows the address bar, including the back button.
    pub fn new(notice: RwSignal<Option<Notice>>) -> Nav {
        let here = Address::current();
        let (screen, set_screen) = signal(here.screen);
        let plan = RwSignal::new(here.plan);
        let handle = window_event_listener(ev::popstate, move |_| {
            notice.set(None);
            let here = Address::current();
            plan.set(here.plan);
            set_screen.set(here.screen)
        });
        on_cleanup(move || handle.remove());
        Nav {
            screen,
            set_screen,
            plan,
            shown: RwSignal::new(here.plan),
            notice,
        }
    }

    /// The address of `to` in the plan shown.
    pub fn href(self, to: Screen) -> String {
        to.path_in(to.of_a_plan().then(|| self.shown.get()).flatten())
    }

    pub fn go(self, to: Screen) {
        self.notice.set(None);
        self.carry(to);
    }

    /// Goes to the start (`/`): "Mijn gezinnen" on a phone with several plans, else home.
    pub fn start(self) {
        self.notice.set(None);
        self.push("/".into(), None, Screen::Home);
    }

    /// Opens a screen of another plan (or the same).
    pub fn open(self, plan: PlanId, to: Screen) {
        self.notice.set(None);
        self.push(to.path_in(Some(plan)), Some(plan), to);
    }

    /// Shows a screen of `plan` in place of the current address (no new history entry), with
    /// the current notice.
    pub fn replace(self, plan: PlanId, to: Screen) {
        if let Ok(history) = window().history() {
            let path = to.path_in(Some(plan));
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
        }
        self.plan.set(Some(plan));
        self.set_screen.set(to);
    }

    /// Moves on with the current notice: the confirmation of what was just done there.
    pub fn carry(self, to: Screen) {
        let plan = to.of_a_plan().then(|| self.shown.get_untracked()).flatten();
        self.push(to.path_in(plan), plan, to);
    }

    fn push(self, path: String, plan: Option<PlanId>, to: Screen) {
        if let Ok(history) = window().history() {
            let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
        }
        self.plan.set(plan);
        self.set_screen.set(to);
        window().scroll_to_with_x_and_y(0.0, 0.0);
    }

    /// Writes the plan shown into an old address that did not name it (`/doelen`), so that the
    /// back button and a reload come back to it. Not `/`: that is the start, which on a phone
    /// with several plans is "Mijn gezinnen".
    pub fn name_plan(self, plan: PlanId) {
        let screen = self.screen.get_untracked();
        if self.plan.get_untracked().is_none() && screen.of_a_plan() && screen != Screen::Home {
            if let Ok(history) = window().history() {
                let path = screen.path_in(Some(plan));
                let _ =
                    history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
            }
            self.plan.set(Some(plan));
        }
    }
}

/// A link to a screen of the plan shown (or of the phone): a real `<a href>` (so it can be
/// opened in a new tab), handled in the app.
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
        <a href=move || nav.href(to) class=class data-testid=(!testid.is_empty()).then_some(testid)
            aria-current=move || current.get().then_some("page") on:click=follow>{children()}</a>
    }
}
