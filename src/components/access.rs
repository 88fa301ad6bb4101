//! What the phone says, on every screen, while the server no longer lets it sync its plan: a
//! phone it does not know must be invited again (nothing is lost meanwhile); a phone taken out
//! of the plan first offers the changes it could not send as a file, and removes the plan only
//! when asked.

use leptos::prelude::*;

use crate::components::download::{download, file_stem};
use crate::i18n::*;
use crate::plans::{use_plans, AccessProblem, Notice};

#[component]
pub fn AccessAlert() -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let busy = RwSignal::new(false);
    let unsent = move || plans.sync.with(|s| s.pending.len());
    let save = move |_| {
        leptos::task::spawn_local(async move {
            match plans.export().await {
                Ok(text) => {
                    let stem = plans.shown().with_untracked(|p| file_stem(&p.child_name));
                    download(&text, "application/json", &format!("{stem}.json"));
                }
                Err(_) => plans.notice.set(Some(Notice {
                    text: tu_string!(i18n, error_storage).to_string(),
                    is_error: true,
                })),
            }
        })
    };
    let remove = move |_| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            plans.leave_revoked_plan().await;
            busy.set(false);
        })
    };
    move || {
        match plans.access.with(|a| a.as_ref().map(|a| a.problem)) {
        None => None,
        Some(AccessProblem::Unknown) => Some(
            view! {
                <p class="alert" role="alert" data-testid="access-unknown">
                    {tu_string!(i18n, access_unknown)}
                </p>
            }
            .into_any(),
        ),
        Some(AccessProblem::Revoked) => Some(
            view! {
                <div class="alert" role="alert" data-testid="access-revoked">
                    <p>{tu_string!(i18n, access_revoked)}</p>
                    <p><strong data-testid="unsent-count">{move || match unsent() {
                        1 => tu_string!(i18n, access_revoked_unsent_one).to_string(),
                        n => tu_string!(i18n, access_revoked_unsent, count = n).to_string(),
                    }}</strong></p>
                    <p>{tu_string!(i18n, access_revoked_save)}</p>
                    <button type="button" class="button wide" on:click=save data-testid="save-unsent">
                        {tu_string!(i18n, access_save_button)}
                    </button>
                    <button type="button" class="button wide danger" on:click=remove disabled=busy data-testid="remove-plan">
                        {tu_string!(i18n, access_remove_button)}
                    </button>
                </div>
            }
            .into_any(),
        ),
    }
    }
}
