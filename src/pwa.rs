//! The bridge to the service worker registration in `public/register-sw.js`: it announces a
//! waiting update with the `koers:update-ready` event; the app asks for it with `koers:apply-update`.

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
