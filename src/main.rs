//! Koers PWA: a thin Leptos shell around `koers-core` (the plan and its rules) and `koers-store`
//! (the operation log in IndexedDB).

mod app;
mod components;
mod format;
mod forms;
mod lazy_screens;
mod pages;
mod pwa;
mod reminders;
mod route;
mod settings;
mod store;
mod sync;

// Typed translations generated from `locales/*.json` by build.rs (leptos_i18n): `mod i18n`.
include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));

fn main() {
    leptos::mount::mount_to_body(app::App);
}
