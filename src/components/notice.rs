use leptos::prelude::*;

use crate::format::explain;
use crate::i18n::*;
use crate::plans::Notice;
use leptos_i18n::I18nContext;

/// Shows the last notice; errors stay until dismissed, confirmations too (no timers to miss).
#[component]
pub fn NoticeBar(notice: RwSignal<Option<Notice>>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div aria-live="polite" data-testid="notice">
            {move || notice.get().map(|n| view! {
                <div class=if n.is_error { "alert" } else { "confirm" } role=if n.is_error { "alert" } else { "status" }>
                    <span>{n.text}</span>
                    <button class="link" on:click=move |_| notice.set(None)>{tu_string!(i18n, dismiss)}</button>
                </div>
            })}
        </div>
    }
}

/// Makes a change as `role` and tells the user how it went: `confirmation` when saved, what to do
/// when not. True when it was saved.
pub async fn save(
    plans: crate::plans::Plans,
    i18n: I18nContext<Locale>,
    role: koers_core::Role,
    edits: Vec<koers_core::Edit>,
    confirmation: &'static str,
) -> bool {
    let result = plans.change(role, edits).await;
    plans.notice.set(Some(match &result {
        Ok(()) => Notice {
            text: confirmation.to_string(),
            is_error: false,
        },
        Err(e) => Notice {
            text: explain(i18n.get_locale_untracked(), e),
            is_error: true,
        },
    }));
    result.is_ok()
}
