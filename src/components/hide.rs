//! The worker's "Verbergen" / "Weer tonen" for words someone wrote in their own name (a comment
//! on a goal, a parent's or the child's view), shared by the screens that show such words.

use koers_core::plan::Hiding;
use koers_core::{Edit, Entity, Field, Plan, Role};
use leptos::prelude::*;

use crate::components::notice::save;
use crate::format;
use crate::i18n::*;
use crate::plans::use_plans;

/// The worker's "Verbergen" or "Weer tonen" for words someone wrote in their own name: sets the
/// hiding `field` of `entity`. `what` names the words for screen readers ("Reactie van Mirjam").
#[component]
pub fn HideButton(
    role: Role,
    entity: Entity,
    field: Field,
    hide: bool,
    what: String,
) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let label = if hide {
        tu_string!(i18n, hide)
    } else {
        tu_string!(i18n, show_again)
    };
    let click = move |_| {
        leptos::task::spawn_local(async move {
            let edits = vec![Edit::new(entity, field, hide)];
            let done = if hide {
                tu_string!(i18n, hidden_saved)
            } else {
                tu_string!(i18n, shown_again)
            };
            save(plans, i18n, role, edits, done).await;
        });
    };
    view! {
        <button type="button" class="link" aria-label=format!("{label}: {what}")
            data-testid=if hide { "hide" } else { "show-again" } on:click=click>{label}</button>
    }
}

/// "Verborgen door Lotte de Vries op …", for the worker.
pub fn hidden_by(i18n: leptos_i18n::I18nContext<Locale>, plan: &Plan, hiding: &Hiding) -> String {
    let who = plan
        .member_or_former(hiding.by)
        .map(|m| m.name.clone())
        .unwrap_or_default();
    let when = format::at_millis(i18n.get_locale_untracked(), hiding.at.millis as f64);
    tu_string!(i18n, hidden_by, who = who, when = when).to_string()
}
