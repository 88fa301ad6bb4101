//! The bridge to the service worker registration in `public/register-sw.js`: the app says it has
//! started with `koers:started` (the worker is registered then); the script announces a waiting
//! update with `koers:update-ready`; the app asks for it with `koers:apply-update`.

use leptos::prelude::*;

/// True once a new version is installed and waiting.
pub fn update_ready() -> ReadSignal<bool> {
    // The announcement may come before the app has started: register-sw.js also marks <html>.
    let already = document()
        .document_element()
        .is_some_and(|html| html.has_attribute("data-update-ready"));
    let (ready, set_ready) = signal(already);
    let handle = window_event_listener_untyped("koers:update-ready", move |_| set_ready.set(true));
    on_cleanup(move || handle.remove());
    ready
}

/// Activates the waiting version; the page reloads once it controls the page.
pub fn apply_update() {
    if let Ok(event) = web_sys::CustomEvent::new("koers:apply-update") {
        let _ = window().dispatch_event(&event);
    }
}

/// Tells register-sw.js that the app runs, so the service worker may now cache the rest.
pub fn app_started() {
    if let Some(html) = document().document_element() {
        let _ = html.set_attribute("data-started", "");
    }
    if let Ok(event) = web_sys::CustomEvent::new("koers:started") {
        let _ = window().dispatch_event(&event);
    }
}
