use koers_core::Role;
use leptos::prelude::*;

use crate::i18n::*;
use crate::plans::use_plans;
use crate::professional::{ends_session, use_professional};
use crate::route::{Nav, Screen};
use crate::sync::SyncError;

/// Opening an invite link (`/uitnodiging#<code>`) joins this phone to the plan.
#[component]
pub fn Join(role: RwSignal<Option<Role>>, nav: Nav) -> impl IntoView {
    let plans = use_plans();
    let professional = use_professional();
    let i18n = use_i18n();
    let problem = RwSignal::new(None::<String>);
    // The code travels in the fragment, so it never reaches a server log.
    let code = window()
        .location()
        .hash()
        .unwrap_or_default()
        .trim_start_matches('#')
        .to_string();
    leptos::task::spawn_local(async move {
        if code.is_empty() {
            problem.set(Some(tu_string!(i18n, invite_unknown).to_string()));
            return;
        }
        // A signed-in professional's session goes along: the plan joins their caseload too.
        // One the server no longer takes is forgotten, and the phone joins as any phone does.
        let session = professional.token().await;
        let mut joined = plans.join(&code, session.as_deref()).await;
        if matches!(&joined, Err(e) if session.is_some() && ends_session(e)) {
            professional.forget().await;
            joined = plans.join(&code, None).await;
        }
        match joined {
            Ok((plan, r)) => {
                role.set(Some(r));
                nav.open(plan, Screen::Home);
            }
            Err(e) => problem.set(Some(explain(i18n, &e))),
        }
    });
    view! {
        <section class="card">
            <h1>{tu_string!(i18n, join_title)}</h1>
            {move || match problem.get() {
                None => view! { <p role="status">{tu_string!(i18n, joining)}</p> }.into_any(),
                Some(p) => view! { <p class="alert" role="alert" data-testid="join-problem">{p}</p> }.into_any(),
            }}
        </section>
    }
}

fn explain(i18n: leptos_i18n::I18nContext<Locale>, e: &SyncError) -> String {
    match e {
        SyncError::Offline => tu_string!(i18n, join_offline),
        SyncError::Rejected { code, .. } if code == "invite_used" => tu_string!(i18n, invite_used),
        SyncError::Rejected { code, .. } if code == "invite_expired" => {
            tu_string!(i18n, invite_expired)
        }
        SyncError::Rejected { code, .. } if code == "invite_revoked" => {
            tu_string!(i18n, invite_revoked)
        }
        SyncError::Rejected { .. } => tu_string!(i18n, invite_unknown),
        SyncError::Malformed | SyncError::Storage(_) => tu_string!(i18n, error_storage),
    }
    .to_string()
}
