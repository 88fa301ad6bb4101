//! Koers PWA: a thin Leptos shell around `koers-core` (the plan and its rules) and `koers-store`
//! (the operation log in IndexedDB).
//!
//! Start-up comes in two steps, so that a phone on a slow connection sees its plan sooner: this
//! first module opens the plan and draws home itself (`glance.rs`), and the Leptos app, in a
//! chunk fetched meanwhile (`start_app`), then takes over.

mod accounts;
mod address;
mod app;
mod chunk;
mod components;
mod device;
mod format;
mod forms;
mod glance;
mod home_top;
mod lazy_screens;
mod notice;
mod pages;
mod passkey;
mod plans;
mod professional;
mod pwa;
mod reminders;
mod route;
mod settings;
mod sync;

// Typed translations generated from `locales/*.json` by build.rs (leptos_i18n): `mod i18n`.
include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));

use std::future::Future;
use std::pin::Pin;

use chunk::ChunkUnavailable;
use glance::Glance;

fn main() {
    wasm_bindgen_futures::spawn_local(async {
        let glance = Glance::show(device::open().await);
        glance.painted().await;
        loop {
            let onlines = glance.onlines();
            match start_app(glance.clone()).await {
                Ok(started) => return started.await,
                Err(ChunkUnavailable) => glance.unavailable(onlines).await,
            }
        }
    });
}

/// The Leptos app, in its own chunk: it mounts once the first paint has handed over.
#[leptos::wasm_split::wasm_split(koers_app, wasm_split_path = ::leptos::wasm_split, fallible)]
fn start_app(glance: Glance) -> Result<Pin<Box<dyn Future<Output = ()>>>, ChunkUnavailable> {
    Ok(Box::pin(async move {
        let (opened, focus) = glance.hand_over().await;
        leptos::mount::mount_to_body(move || leptos::view! { <app::App opened/> });
        pwa::app_started();
        focus.restore_in_app().await;
    }))
}
