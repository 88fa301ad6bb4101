//! The first paint. Leptos and the screens are most of the app's wasm, so they come in a chunk
//! fetched right after this module has started. Until the app is there, home (or the role
//! choice) is drawn here straight from the opened plan with plain DOM calls, and goals can
//! already be ticked off, through the same device code the app uses. When the app has arrived
//! it takes the opened device over, after any change still being written, and draws the page
//! anew in that same task: nothing flickers and nothing is lost.
//!
//! Drawn as the app's components draw it (same elements, classes and test ids; the e2e test
//! `first-paint.spec.ts` compares the two): the shell, and the top of home from the same words
//! the app shows ([`HomeTop`]): own actions, reminders, phase, deadline, what comes next and
//! "Mijn doelen". The rest of home follows with the app; other addresses show the shell and
//! "loading" until then.

use std::cell::RefCell;
use std::rc::Rc;

use koers_core::{Edit, Entity, Field, GoalId, GoalStatus, Plan, Role};
use koers_store::StoreError;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, Event, HtmlInputElement};

use crate::address::{Address, Screen, TABS};
use crate::device::{self, ChangeError, Opened};
use crate::format::{self, explain, waiting, ROLES};
use crate::home_top::{
    ActionItem, ActionTarget, DeadlineBody, DeadlineCard, GoalsCard, HomeTop, Timeline,
};
use crate::i18n::*;
use crate::settings;
use crate::sync;

/// The first paint, until the app takes over (cheap to clone: one shared state).
#[derive(Clone)]
pub struct Glance(Rc<RefCell<State>>);

struct State {
    /// Taken by the app at the hand-over.
    opened: Option<Result<Opened, StoreError>>,
    /// Derived from the opened replica (after each tick), so a redraw need not derive it again.
    plan: Option<Plan>,
    locale: Locale,
    /// Changes authored here and still being written to IndexedDB.
    writing: usize,
    /// What went wrong with the last tick, in words.
    notice: Option<String>,
    /// Resolves the wait in [`Glance::unavailable`] when "try again" is tapped or the phone
    /// comes online.
    retry: Option<js_sys::Function>,
    /// How often the phone came online (`online` events) since the first paint: see
    /// [`Glance::onlines`].
    onlines: u32,
    root: Element,
    listeners: Vec<Listener>,
}

/// An event the first paint listens to, and its handler (removed at the hand-over).
type Listener = (&'static str, Closure<dyn FnMut(Event)>);

impl Glance {
    /// Draws the first screen in place of the static "loading" text of index.html.
    pub fn show(opened: Result<Opened, StoreError>) -> Glance {
        let document = document();
        // Takes no box of its own (style/main.css), so the page lays out as the app's does.
        let root = document.create_element("div").expect("a div");
        root.set_class_name("glance");
        match document.get_element_by_id("boot") {
            Some(boot) => drop(boot.replace_with_with_node_1(&root)),
            None => drop(document.body().map(|b| b.append_child(&root))),
        }
        let plan = opened
            .as_ref()
            .ok()
            .map(|o| Plan::from_replica(&o.device.replica));
        let glance = Glance(Rc::new(RefCell::new(State {
            opened: Some(opened),
            plan,
            locale: settings::stored_locale(),
            writing: 0,
            notice: None,
            retry: None,
            onlines: 0,
            root: root.clone(),
            listeners: Vec::new(),
        })));
        let listen = |target: &web_sys::EventTarget, kind: &'static str, glance: &Glance| {
            let on = glance.clone();
            let closure = Closure::<dyn FnMut(Event)>::new(move |e: Event| on.handle(e));
            let _ = target.add_event_listener_with_callback(kind, closure.as_ref().unchecked_ref());
            glance.0.borrow_mut().listeners.push((kind, closure));
        };
        listen(&root, "click", &glance);
        listen(&root, "change", &glance);
        listen(&window(), "popstate", &glance);
        listen(&window(), "online", &glance);
        glance.draw();
        device::mark("koers:first-paint");
        glance
    }

    /// Resolves once the first screen has been painted, so the app's start-up (fetching,
    /// compiling and drawing, which takes the main thread) cannot hold that paint back. A tab in
    /// the background paints no frames: there it waits 100 ms at most.
    pub async fn painted(&self) {
        let frame = js_sys::Promise::new(&mut |resolve, _| {
            let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 100);
            let after = Closure::once_into_js(move || {
                let _ = window().set_timeout_with_callback(resolve.unchecked_ref());
            });
            let _ = window().request_animation_frame(after.unchecked_ref());
        });
        let _ = wasm_bindgen_futures::JsFuture::from(frame).await;
    }

    /// Waits for changes still being written, then stops drawing and hands over what was
    /// opened, with this screen's changes in it. The caller draws the app at once, in the same
    /// task, so the page never shows empty, and then gives the keyboard focus back.
    pub async fn hand_over(self) -> (Result<Opened, StoreError>, Focus) {
        while self.0.borrow().writing > 0 {
            device::pause(10).await;
        }
        let mut state = self.0.borrow_mut();
        for (kind, closure) in std::mem::take(&mut state.listeners) {
            let target: &web_sys::EventTarget = if matches!(kind, "popstate" | "online") {
                &window()
            } else {
                &state.root
            };
            let _ =
                target.remove_event_listener_with_callback(kind, closure.as_ref().unchecked_ref());
        }
        let focus = Focus(
            document()
                .active_element()
                .filter(|e| state.root.contains(Some(e)))
                .and_then(|e| e.get_attribute("data-goal")),
        );
        state.root.remove();
        let opened = state
            .opened
            .take()
            .unwrap_or_else(|| Err(StoreError::Failed("handed over twice".into())));
        (opened, focus)
    }

    /// How often the phone came online since the first paint. Taken before fetching the app,
    /// it tells [`Glance::unavailable`] whether the phone came online while the fetch failed.
    pub fn onlines(&self) -> u32 {
        self.0.borrow().onlines
    }

    /// The app could not be fetched (offline before it was ever cached, or the server is
    /// down): says so, and returns when "try again" is tapped or the phone comes online.
    /// `onlines`: [`Glance::onlines`] before the fetch. If the phone came online since (the
    /// connection dropped mid-fetch and came back), that `online` event has passed, often
    /// before the fetch's failure arrives: it returns at once, as waiting for the next one
    /// could wait for good.
    pub async fn unavailable(&self, onlines: u32) {
        if self.onlines() != onlines {
            return;
        }
        let wait = js_sys::Promise::new(&mut |resolve, _| {
            self.0.borrow_mut().retry = Some(resolve);
        });
        self.draw();
        let _ = wasm_bindgen_futures::JsFuture::from(wait).await;
        self.0.borrow_mut().retry = None;
        self.draw();
    }

    fn handle(&self, e: Event) {
        if e.type_() == "online" {
            let retry = {
                let mut state = self.0.borrow_mut();
                state.onlines += 1;
                state.retry.clone()
            };
            if let Some(resolve) = retry {
                let _ = resolve.call0(&JsValue::NULL);
            }
            return;
        }
        let Some(target) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
            return;
        };
        if e.type_() == "change" {
            if let (Ok(input), Some(goal)) = (
                target.clone().dyn_into::<HtmlInputElement>(),
                target
                    .get_attribute("data-goal")
                    .and_then(|g| g.parse().ok()),
            ) {
                self.tick(GoalId(goal), input);
            }
            return;
        }
        if e.type_() == "popstate" {
            return self.draw();
        }
        let Ok(Some(clicked)) = target.closest("a[href], button") else {
            return;
        };
        let mouse = e.dyn_ref::<web_sys::MouseEvent>();
        if mouse.is_some_and(|m| m.ctrl_key() || m.meta_key() || m.shift_key() || m.alt_key()) {
            return;
        }
        if let Some(href) = clicked.get_attribute("href").filter(|h| h.starts_with('/')) {
            // As the app's links do: the address changes, the page is drawn for it.
            e.prevent_default();
            go(&href);
        } else if let Some(role) = clicked
            .get_attribute("data-role")
            .as_deref()
            .and_then(Role::from_key)
        {
            settings::store_role(Some(role));
            if Address::current().screen == Screen::ChooseRole {
                let plan = self.0.borrow().plan.as_ref().map(|p| p.id);
                go(&Screen::Home.path_in(plan));
            }
        } else if clicked.get_attribute("data-glance").as_deref() == Some("language") {
            let mut state = self.0.borrow_mut();
            state.locale = if state.locale == Locale::nl {
                Locale::en
            } else {
                Locale::nl
            };
            settings::store_locale(state.locale);
        } else if clicked.get_attribute("data-glance").as_deref() == Some("consent") {
            return self.give_consent();
        } else if clicked.get_attribute("data-glance").as_deref() == Some("retry") {
            if let Some(resolve) = self.0.borrow().retry.clone() {
                let _ = resolve.call0(&JsValue::NULL);
            }
            return;
        } else {
            return;
        }
        self.draw();
    }

    /// Ticks a goal off (or back on) as the app does; on any error the box shows the truth
    /// again.
    fn tick(&self, goal: GoalId, checkbox: HtmlInputElement) {
        let done = checkbox.checked();
        let status = if done {
            GoalStatus::Done
        } else {
            GoalStatus::Open
        };
        let edit = Edit::new(Entity::Goal(goal), Field::Status, status);
        self.change(
            edit,
            Box::new(move || checkbox.set_checked(!done)),
            Some(goal.0.to_string()),
        );
    }

    /// Gives this member's consent, as home's button in the app does.
    fn give_consent(&self) {
        let member = {
            let state = self.0.borrow();
            match (&state.opened, &state.plan, role(&state)) {
                (Some(Ok(opened)), Some(plan), Some(role)) => {
                    device::member(opened.session.as_ref(), plan, role)
                }
                _ => None,
            }
        };
        let Some(member) = member else { return };
        let now = chrono::Local::now().naive_local();
        self.change(
            Edit::new(Entity::Consent(member), Field::GivenAt, Some(now)),
            Box::new(|| {}),
            None,
        );
    }

    /// Makes a change as the app does: authored and checked by the core, stored, then shown; on
    /// any error `undo` puts the control back and the page says why.
    /// (`undo` boxed: one copy of this code, not one per caller, in the first download.)
    fn change(&self, edit: Edit, undo: Box<dyn FnOnce()>, focus: Option<String>) {
        let Some(role) = role(&self.0.borrow()) else {
            return;
        };
        let authored = {
            let state = self.0.borrow();
            match (&state.opened, &state.plan) {
                (Some(Ok(opened)), Some(plan)) => {
                    device::member(opened.session.as_ref(), plan, role)
                        .ok_or(ChangeError::NoMember)
                        .and_then(|member| {
                            opened
                                .device
                                .author(plan, member, vec![edit])
                                .map_err(ChangeError::Refused)
                        })
                        .map(|ops| (opened.device.log.clone(), ops))
                }
                _ => Err(ChangeError::NotLoaded),
            }
        };
        self.0.borrow_mut().writing += 1;
        let glance = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let stored = match authored {
                Ok((log, ops)) => device::save(&log, &ops).await.map(|()| ops),
                Err(e) => Err(e),
            };
            let mut state = glance.0.borrow_mut();
            state.writing -= 1;
            let locale = state.locale;
            match stored {
                Ok(ops) => {
                    let State { opened, plan, .. } = &mut *state;
                    if let (Some(Ok(opened)), Some(plan)) = (opened, plan) {
                        opened.device.apply(&ops);
                        if opened.session.is_some() {
                            sync::add_items(&mut opened.pending, &ops);
                        }
                        // Derived whole: `Plan::refresh` would add its code to this first
                        // download, for a screen that shows only until the app takes over.
                        *plan = Plan::from_replica(&opened.device.replica);
                    }
                    state.notice = None;
                }
                Err(e) => {
                    undo();
                    state.notice = Some(explain(locale, &e));
                }
            }
            drop(state);
            glance.draw();
            // The page was drawn anew: keep the keyboard on the control just used.
            Focus(focus).restore();
        });
    }

    /// Draws the whole first screen anew from the state.
    fn draw(&self) {
        let state = self.0.borrow();
        state.root.set_inner_html("");
        let l = state.locale;
        let (Some(Ok(opened)), Some(plan)) = (&state.opened, &state.plan) else {
            // The phone's storage could not be opened: the app says why.
            let _ = state
                .root
                .append_child(&El::new("p").class("boot").text(td_string!(l, loading)).0);
            return;
        };
        let role = role(&state);
        let shared = opened.session.is_some();
        for node in [
            El::new("a")
                .class("skip")
                .attr("href", "#main")
                .text(td_string!(l, skip_to_content)),
            header(
                l,
                role,
                shared,
                plan,
                opened.replayed && opened.plans.len() > 1,
            ),
            sync_bar(l, opened),
        ] {
            let _ = state.root.append_child(&node.0);
        }
        if role.is_some() {
            let _ = state.root.append_child(&tabs(l, plan).0);
        }
        let main = El::new("main").attr("id", "main").attr("tabindex", "-1");
        let address = Address::current();
        // The app draws the overview, and another plan than the one opened.
        let here = match address {
            Address { plan: Some(p), .. } if p != plan.id => Screen::NotFound,
            Address {
                plan: None,
                screen: Screen::Home,
            } if device::opens_on_caseload(opened.plans.iter().map(|m| m.plan)) => Screen::Caseload,
            Address { screen, .. } => screen,
        };
        // Without the app, home still works: the problem is said above it.
        let unavailable = state.retry.is_some();
        let at_home = here == Screen::Home && role.is_some();
        let main = if unavailable {
            main.child(
                El::new("div")
                    .class("alert")
                    .attr("role", "alert")
                    .attr("data-testid", "chunk-unavailable")
                    .child(El::new("p").text(if at_home {
                        td_string!(l, app_unavailable)
                    } else {
                        td_string!(l, screen_unavailable)
                    }))
                    .child(
                        El::new("button")
                            .attr("type", "button")
                            .class("button")
                            .attr("data-glance", "retry")
                            .text(td_string!(l, try_again)),
                    ),
            )
        } else {
            main
        };
        // Home and the role choice as the app's shell chooses them; other screens wait for it.
        let main = match (here, role) {
            (Screen::Home, Some(role)) => {
                let member = device::member(opened.session.as_ref(), plan, role);
                let now = chrono::Local::now().naive_local();
                let top = HomeTop::new(l, plan, role, member, now);
                home(main, l, plan, &top, state.notice.as_deref())
            }
            (Screen::Home | Screen::ChooseRole, _) => main.child(choose_role(l, role)),
            _ if unavailable => main,
            _ => main.child(
                El::new("p")
                    .class("muted")
                    .attr("role", "status")
                    .text(td_string!(l, screen_loading)),
            ),
        };
        let _ = state.root.append_child(&main.0);
    }
}

/// The goal box that had the keyboard focus when the app took over.
pub struct Focus(Option<String>);

impl Focus {
    /// Focuses the same goal's box, as drawn now.
    fn restore(self) {
        let Some(goal) = self.0 else { return };
        let selector = format!("input[data-goal=\"{goal}\"]");
        if let Ok(Some(input)) = document().query_selector(&selector) {
            let _ = input.unchecked_into::<web_sys::HtmlElement>().focus();
        }
    }

    /// Focuses the same goal's box once the app has drawn it: after its first effects, which
    /// may draw the page once more (a stored language applied).
    pub async fn restore_in_app(self) {
        device::pause(0).await;
        self.restore();
    }
}

/// The role this phone speaks for: the invited member's in a shared plan, else the chosen one.
fn role(state: &State) -> Option<Role> {
    match &state.opened {
        Some(Ok(Opened {
            session: Some(session),
            ..
        })) => Some(session.role),
        _ => settings::stored_role(),
    }
}

fn header(l: Locale, role: Option<Role>, shared: bool, plan: &Plan, several: bool) -> El {
    // Named in the language it switches to, as in the app.
    let lang = if l == Locale::nl { "en" } else { "nl" };
    let header = El::new("header")
        .class("topbar")
        .child(
            El::new("a")
                .attr("href", "/")
                .class("brand")
                .child(
                    El::new("img")
                        .attr("src", "/icons/icon.svg")
                        .attr("alt", "")
                        .attr("width", "28")
                        .attr("height", "28"),
                )
                .child(El::new("span").text("Koers")),
        )
        .child(
            El::new("button")
                .class("chip")
                .attr("lang", lang)
                .attr("data-glance", "language")
                .text(td_string!(l, other_language)),
        );
    // The plan shown, by its child's name: tapped, every plan on the phone (as in the app).
    let header = if several {
        header.child(
            El::new("a")
                .attr("href", &Screen::Caseload.path_in(None))
                .class("chip")
                .attr("data-testid", "plan-switch")
                .child(
                    El::new("span")
                        .class("visually-hidden")
                        .text(td_string!(l, switch_plan))
                        .text(": "),
                )
                .text(&plan.child_name),
        )
    } else {
        header
    };
    match (role, shared) {
        (Some(r), false) => header.child(
            El::new("a")
                .attr("href", &Screen::ChooseRole.path_in(Some(plan.id)))
                .class("chip")
                .attr("data-testid", "current-role")
                .text(format::role(l, r)),
        ),
        (Some(r), true) => header.child(
            El::new("span")
                .class("chip")
                .attr("data-testid", "current-role")
                .text(format::role(l, r)),
        ),
        (None, _) => header,
    }
}

fn sync_bar(l: Locale, opened: &Opened) -> El {
    let bar = El::new("p")
        .attr("role", "status")
        .attr("data-testid", "sync-status");
    // "Mijn gezinnen" (no plan replayed) says how all plans sync, as the app then does.
    if opened.session.is_none() && opened.replayed {
        return bar
            .class("syncbar local")
            .text(td_string!(l, sync_local_only));
    }
    let online = window().navigator().on_line();
    bar.class(if online { "syncbar" } else { "syncbar offline" })
        .child(El::new("span").class("dot").attr("aria-hidden", "true"))
        .text(if online {
            td_string!(l, sync_online)
        } else {
            td_string!(l, sync_offline)
        })
        .text(" · ")
        .child(
            El::new("span")
                .attr("data-testid", "sync-pending")
                .text(&waiting(l, opened.pending.len())),
        )
}

fn tabs(l: Locale, plan: &Plan) -> El {
    let here = Address::current().screen.tab();
    El::new("nav")
        .class("tabs")
        .attr("aria-label", td_string!(l, tabs_label))
        .children(TABS.map(|to| {
            let link = El::new("a")
                .attr("href", &to.path_in(Some(plan.id)))
                .class("tab")
                .text(format::tab_label(l, to));
            if to == here {
                link.attr("aria-current", "page")
            } else {
                link
            }
        }))
}

fn choose_role(l: Locale, chosen: Option<Role>) -> El {
    El::new("section")
        .class("card")
        .child(El::new("h1").text(td_string!(l, choose_role_title)))
        .child(El::new("p").text(td_string!(l, choose_role_intro)))
        .child(
            El::new("div")
                .class("role-grid")
                .attr("role", "group")
                .attr("aria-label", td_string!(l, choose_role_title))
                .children(ROLES.map(|r| {
                    El::new("button")
                        .class("role-button")
                        .attr("data-role", r.key())
                        .attr(
                            "aria-pressed",
                            if chosen == Some(r) { "true" } else { "false" },
                        )
                        .text(format::role(l, r))
                })),
        )
}

/// The top of home (see [`HomeTop`]), laid out as `pages/home.rs` lays it out.
fn home(main: El, l: Locale, plan: &Plan, top: &HomeTop, notice: Option<&str>) -> El {
    let main = if top.example {
        main.child(
            El::new("p")
                .class("example")
                .attr("data-testid", "example-badge")
                .text(td_string!(l, example_notice)),
        )
    } else {
        main
    };
    let notice_bar = El::new("div")
        .attr("aria-live", "polite")
        .attr("data-testid", "notice");
    let notice_bar = match notice {
        Some(text) => notice_bar.child(
            El::new("div")
                .class("alert")
                .attr("role", "alert")
                .child(El::new("span").text(text)),
        ),
        None => notice_bar,
    };
    let main = main
        .child(
            El::new("h1")
                .attr("data-testid", "child-name")
                .text(&top.title),
        )
        .child(notice_bar)
        .maybe(own_actions(l, plan, &top.actions));
    let main = if top.reminders.is_empty() {
        main
    } else {
        main.child(
            El::new("section")
                .class("card reminders")
                .attr("aria-labelledby", "reminders-title")
                .child(
                    El::new("h2")
                        .attr("id", "reminders-title")
                        .text(td_string!(l, reminders_title)),
                )
                .child(
                    El::new("ul")
                        .attr("data-testid", "reminders")
                        .children(top.reminders.iter().map(|r| El::new("li").text(r))),
                ),
        )
    };
    let main = main
        .child(timeline(l, &top.timeline))
        .child(deadline(&top.deadline))
        .child(up_next(l, top));
    let main = match &top.intro {
        Some(text) => main.child(
            El::new("p")
                .class("intro")
                .attr("data-testid", "role-intro")
                .text(text),
        ),
        None => main,
    };
    let main = main.child(my_goals(l, &top.goals));
    if top.log_contact {
        main.child(
            El::new("a")
                .attr("href", &Screen::LogContact.path_in(Some(plan.id)))
                .class("button primary wide")
                .attr("data-testid", "log-contact")
                .text(td_string!(l, log_contact)),
        )
    } else {
        main
    }
}

/// "Wat jij nu kunt doen" (nothing when there is nothing to do).
fn own_actions(l: Locale, plan: &Plan, actions: &[ActionItem]) -> Option<El> {
    if actions.is_empty() {
        return None;
    }
    Some(
        El::new("section")
            .class("card own-actions")
            .attr("aria-labelledby", "own-actions-title")
            .attr("data-testid", "own-actions")
            .child(
                El::new("h2")
                    .attr("id", "own-actions-title")
                    .text(td_string!(l, own_actions_title)),
            )
            .child(El::new("ul").children(actions.iter().map(|a| {
                let item = El::new("li");
                match a.does {
                    ActionTarget::GiveConsent => item.child(El::new("span").text(&a.text)).child(
                        El::new("button")
                            .attr("type", "button")
                            .class("button small primary")
                            .attr("data-glance", "consent")
                            .attr("data-testid", "give-consent")
                            .text(td_string!(l, consent_give)),
                    ),
                    ActionTarget::Open(screen) => item.child(
                        El::new("a")
                            .attr("href", &screen.path_in(Some(plan.id)))
                            .text(&a.text),
                    ),
                }
            }))),
    )
}

fn timeline(l: Locale, timeline: &Timeline) -> El {
    El::new("section")
        .class("card")
        .attr("aria-labelledby", "phase-title")
        .child(
            El::new("h2")
                .attr("id", "phase-title")
                .text(td_string!(l, timeline_title)),
        )
        .child(
            El::new("ol")
                .class("timeline")
                .attr("data-testid", "timeline")
                .children(timeline.steps.iter().map(|step| {
                    let li = El::new("li")
                        .child(El::new("span").class("step").text(&step.number.to_string()))
                        .child(El::new("span").class("step-name").text(step.name));
                    match step.class {
                        Some(class @ "current") => li.class(class).attr("aria-current", "step"),
                        Some(class) => li.class(class),
                        None => li,
                    }
                })),
        )
        .child(
            El::new("p")
                .attr("data-testid", "current-phase")
                .child(El::new("strong").text(&timeline.current))
                .text(" — ")
                .text(timeline.explained),
        )
}

fn deadline(card: &DeadlineCard) -> El {
    let section = El::new("section")
        .class(card.class)
        .attr("data-testid", "deadline");
    match &card.body {
        DeadlineBody::DaysLeft { days, unit, until } => section
            .child(
                El::new("p")
                    .class("big")
                    .child(
                        El::new("span")
                            .attr("data-testid", "days-left")
                            .text(&days.to_string()),
                    )
                    .text(" ")
                    .text(unit),
            )
            .child(El::new("p").text(until)),
        DeadlineBody::Line { text, class } => {
            let p = El::new("p").text(text);
            section.child(match class {
                Some(class) => p.class(class),
                None => p,
            })
        }
    }
}

fn up_next(l: Locale, top: &HomeTop) -> El {
    El::new("section")
        .class("card")
        .attr("aria-labelledby", "next-title")
        .child(
            El::new("h2")
                .attr("id", "next-title")
                .text(td_string!(l, next_title)),
        )
        .child(
            El::new("p")
                .attr("data-testid", "next-contact")
                .text(&top.next_contact),
        )
        .maybe(top.next_evaluation.as_ref().map(|text| {
            El::new("p")
                .attr("data-testid", "next-evaluation")
                .text(text)
        }))
}

fn my_goals(l: Locale, goals: &GoalsCard) -> El {
    let card = El::new("section")
        .class("card")
        .attr("aria-labelledby", "goals-title")
        .child(
            El::new("h2")
                .attr("id", "goals-title")
                .text(td_string!(l, my_goals)),
        )
        .child(
            El::new("p")
                .class("muted")
                .attr("data-testid", "goal-progress")
                .text(&goals.progress),
        );
    if let Some(empty) = goals.empty {
        return card.child(El::new("p").text(empty));
    }
    card.child(
        El::new("ul")
            .class("goals")
            .attr("data-testid", "my-goals")
            .children(goals.rows.iter().map(|goal| {
                let checkbox = El::new("input")
                    .attr("type", "checkbox")
                    .attr("data-goal", &goal.id.0.to_string());
                let text = El::new("span")
                    .class("goal-text")
                    .child(El::new("span").class("goal-title").text(&goal.title))
                    .maybe(
                        goal.description
                            .as_ref()
                            .map(|d| El::new("span").class("goal-desc").text(d)),
                    )
                    .maybe(goal.changed_by_two.map(|words| {
                        El::new("span")
                            .class("goal-meta conflict")
                            .attr("data-testid", "changed-by-two")
                            .text(words)
                    }))
                    .maybe(
                        goal.deadline
                            .as_ref()
                            .map(|d| El::new("span").class("goal-meta").text(d)),
                    );
                El::new("li")
                    .class(if goal.done { "goal is-done" } else { "goal" })
                    .child(
                        El::new("label")
                            .child(if goal.done {
                                checkbox.attr("checked", "")
                            } else {
                                checkbox
                            })
                            .child(text),
                    )
            })),
    )
}

/// An element being built, read top to bottom like the markup it makes. Text is set as text,
/// never parsed as HTML, so names and goals cannot inject markup.
struct El(Element);

impl El {
    fn new(tag: &str) -> El {
        El(document().create_element(tag).expect("a valid tag"))
    }

    fn attr(self, name: &str, value: &str) -> El {
        let _ = self.0.set_attribute(name, value);
        self
    }

    fn class(self, class: &str) -> El {
        self.0.set_class_name(class);
        self
    }

    fn text(self, text: &str) -> El {
        let _ = self.0.append_with_str_1(text);
        self
    }

    fn child(self, child: El) -> El {
        let _ = self.0.append_child(&child.0);
        self
    }

    fn maybe(self, child: Option<El>) -> El {
        match child {
            Some(child) => self.child(child),
            None => self,
        }
    }

    fn children(self, children: impl IntoIterator<Item = El>) -> El {
        for child in children {
            let _ = self.0.append_child(&child.0);
        }
        self
    }
}

fn window() -> web_sys::Window {
    web_sys::window().expect("a window")
}

fn document() -> web_sys::Document {
    window().document().expect("a document")
}

/// Changes the address as the app's links do (the app reads it when it starts).
fn go(to: &str) {
    if let Ok(history) = window().history() {
        let _ = history.push_state_with_url(&JsValue::NULL, "", Some(to));
    }
    window().scroll_to_with_x_and_y(0.0, 0.0);
}
