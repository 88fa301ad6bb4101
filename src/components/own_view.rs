use koers_core::{Edit, Entity, Field, Role};
use leptos::prelude::*;

use crate::components::notice::save;
use crate::forms::optional_text;
use crate::i18n::*;
use crate::plans::use_plans;

/// A parent's or the child's own words about a visit or an evaluation (shared parenting: every
/// party's view is in the plan), behind a "how did you find it?" toggle.
#[component]
pub fn OwnView(role: Role, entity: Entity, field: Field, current: Option<String>) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let text = RwSignal::new(current.unwrap_or_default());
    let youth = role == Role::Youth;
    let keep = move |_| {
        let edits = vec![Edit::new(entity, field, optional_text(text))];
        leptos::task::spawn_local(async move {
            save(plans, i18n, role, edits, tu_string!(i18n, own_view_saved)).await;
        });
    };
    view! {
        <details class="own-view">
            <summary>{if youth { tu_string!(i18n, youth_view_add) } else { tu_string!(i18n, parent_view_add) }}</summary>
            <label class="field">
                <span>{if youth { tu_string!(i18n, youth_view_label) } else { tu_string!(i18n, parent_view_label) }}</span>
                <textarea rows="3" maxlength="4000" bind:value=text></textarea>
            </label>
            <button class="button wide" on:click=keep>{tu_string!(i18n, save)}</button>
        </details>
    }
}
