use koers_core::Role;
use leptos::prelude::*;

use crate::format;
use crate::i18n::*;
use crate::route::{Link, Nav, Screen};

/// "Wie ben jij?": the device remembers the choice.
#[component]
pub fn ChooseRole(role: RwSignal<Option<Role>>, nav: Nav) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="card">
            <h1>{tu_string!(i18n, choose_role_title)}</h1>
            <p>{tu_string!(i18n, choose_role_intro)}</p>
            <div class="role-grid" role="group" aria-label=tu_string!(i18n, choose_role_title)>
                {format::ROLES.into_iter().map(|r| {
                    view! {
                        <button class="role-button" data-role=r.key()
                            aria-pressed=move || (role.get() == Some(r)).to_string()
                            on:click=move |_| { role.set(Some(r)); nav.go(Screen::Home); }>
                            {format::role(i18n.get_locale_untracked(), r)}
                        </button>
                    }
                }).collect_view()}
            </div>
            // Professionals sign in instead: their plans come with them.
            <p>
                <Link nav to=Screen::SignIn testid="sign-in-link">{tu_string!(i18n, pro_sign_in_link)}</Link>
            </p>
        </section>
    }
}
