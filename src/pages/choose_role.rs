use koers_core::Role;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::format;
use crate::i18n::*;

/// "Wie ben jij?": the device remembers the choice.
#[component]
pub fn ChooseRole(role: RwSignal<Option<Role>>) -> impl IntoView {
    let i18n = use_i18n();
    let navigate = use_navigate();
    let roles = [Role::Parent, Role::FosterParent, Role::Guardian, Role::FosterCareWorker, Role::Youth];
    view! {
        <section class="card">
            <h1>{t_string!(i18n, choose_role_title)}</h1>
            <p>{t_string!(i18n, choose_role_intro)}</p>
            <div class="role-grid" role="group" aria-label=t_string!(i18n, choose_role_title)>
                {roles.into_iter().map(|r| {
                    let navigate = navigate.clone();
                    view! {
                        <button class="role-button" data-role=r.key()
                            aria-pressed=move || (role.get() == Some(r)).to_string()
                            on:click=move |_| { role.set(Some(r)); navigate("/", Default::default()); }>
                            {format::role(i18n, r)}
                        </button>
                    }
                }).collect_view()}
            </div>
        </section>
    }
}
