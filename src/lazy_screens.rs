//! Every screen but the first one (home, or choosing a role) lives in one lazily loaded wasm
//! chunk, so a phone downloads and compiles only what it needs to show the plan.
//!
//! `wasm-split-cli` (scripts/build-wasm.mjs) cuts the module at `other_screen`. One chunk rather
//! than one per screen: per-screen chunks share so much Leptos code that they fragmented into
//! a hundred files and a slower second screen. The service worker precaches the chunk, so after
//! the first visit every screen opens offline.

use koers_core::Role;
use leptos::prelude::*;

pub use crate::chunk::ChunkUnavailable;
use crate::pages::{
    admin::Admin, choose_role::ChooseRole, contacts::Contacts, enrol::Enrol,
    evaluations::Evaluations, goal::GoalPage, goals::Goals, join::Join, log_contact::LogContact,
    members::Members, more::More, network::Network, new_plan::NewPlanForm, phases::Phases,
    sign_in::SignIn, summary::Summary,
};
use crate::route::{Nav, Screen};

// Leptos' `#[lazy]` panics when the chunk cannot be fetched, which traps the whole app under
// `panic = "abort"`. The `wasm_split` macro beneath it has a `fallible` mode that returns the
// error instead, so the screen can say so and offer to try again.
#[leptos::wasm_split::wasm_split(koers_other_screens, wasm_split_path = ::leptos::wasm_split, fallible)]
pub fn other_screen(
    role: RwSignal<Option<Role>>,
    now: Option<Role>,
    nav: Nav,
    screen: Screen,
) -> Result<AnyView, ChunkUnavailable> {
    Ok(match (screen, now) {
        (Screen::LogContact, _) => view! { <LogContact role nav/> }.into_any(),
        (Screen::PlanContact, _) => view! { <LogContact role nav planned=true/> }.into_any(),
        (Screen::Contacts, Some(role)) => view! { <Contacts role nav/> }.into_any(),
        (Screen::Network, Some(role)) => view! { <Network role/> }.into_any(),
        (Screen::Join, _) => view! { <Join role nav/> }.into_any(),
        (Screen::NewPlan, _) => view! { <NewPlanForm nav/> }.into_any(),
        (Screen::Members, _) => view! { <Members role/> }.into_any(),
        (Screen::Goals, Some(role)) => view! { <Goals role nav/> }.into_any(),
        (Screen::Goal(id), Some(role)) => view! { <GoalPage role nav id/> }.into_any(),
        (Screen::Phases, Some(role)) => view! { <Phases role/> }.into_any(),
        (Screen::Evaluations, Some(role)) => view! { <Evaluations role/> }.into_any(),
        (Screen::More, _) => view! { <More nav/> }.into_any(),
        (Screen::Summary, _) => view! { <Summary/> }.into_any(),
        // The professional's screens: with their passkey code, only ever in this chunk.
        (Screen::Enrol, _) => view! { <Enrol nav/> }.into_any(),
        (Screen::SignIn, _) => view! { <SignIn nav/> }.into_any(),
        (Screen::Admin, _) => view! { <Admin nav/> }.into_any(),
        // The shell draws home, Mijn gezinnen, the role choice and "not found" itself.
        _ => view! { <ChooseRole role nav/> }.into_any(),
    })
}
