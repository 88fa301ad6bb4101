use leptos::prelude::*;

use crate::i18n::*;
use crate::store::{ChangeError, Notice};
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

/// What went wrong, and what to do about it, in the user's language.
pub fn explain(locale: Locale, e: &ChangeError) -> String {
    use koers_core::Refusal;
    use koers_store::StoreError;
    match e {
        ChangeError::NoMember => td_string!(locale, error_no_member).to_string(),
        ChangeError::NotLoaded => td_string!(locale, error_not_loaded).to_string(),
        ChangeError::Refused(Refusal::NotAllowed { .. } | Refusal::NotAMember) => {
            td_string!(locale, error_not_allowed).to_string()
        }
        ChangeError::Refused(Refusal::Phase(_)) => td_string!(locale, error_phase).to_string(),
        ChangeError::Refused(Refusal::NotTheWriter { .. }) => {
            td_string!(locale, error_not_writer).to_string()
        }
        ChangeError::Refused(_) => td_string!(locale, error_invalid).to_string(),
        ChangeError::Storage(StoreError::QuotaExceeded) => {
            td_string!(locale, error_quota).to_string()
        }
        ChangeError::Storage(_) => td_string!(locale, error_storage).to_string(),
    }
}

/// Makes a change as `role` and tells the user how it went: `confirmation` when saved, what to do
/// when not. True when it was saved.
pub async fn save(
    store: crate::store::PlanStore,
    i18n: I18nContext<Locale>,
    role: koers_core::Role,
    edits: Vec<koers_core::Edit>,
    confirmation: &'static str,
) -> bool {
    let result = store.change(role, edits).await;
    store.notice.set(Some(match &result {
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
