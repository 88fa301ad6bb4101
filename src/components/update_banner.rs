use leptos::prelude::*;

use crate::i18n::*;
use crate::pwa;

/// Offers a reload when a new version is ready, so old and new files are never mixed.
#[component]
pub fn UpdateBanner() -> impl IntoView {
    let i18n = use_i18n();
    let ready = pwa::update_ready();
    view! {
        <Show when=move || ready.get()>
            <div class="banner" role="status" data-testid="update-banner">
                <span>{tu_string!(i18n, update_ready)}</span>
                <button class="button small" on:click=|_| pwa::apply_update()>{tu_string!(i18n, update_reload)}</button>
            </div>
        </Show>
    }
}
