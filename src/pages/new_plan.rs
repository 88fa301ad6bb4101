use koers_core::founding::NewPlan;
use koers_core::Role;
use leptos::prelude::*;

use crate::format;
use crate::i18n::*;
use crate::plans::use_plans;
use crate::professional::use_professional;
use crate::route::{Link, Nav, Screen};
use crate::sync::SyncError;

const ROLES: [Role; 5] = [
    Role::Parent,
    Role::FosterParent,
    Role::Guardian,
    Role::CareWorker,
    Role::Youth,
];

/// One row of "who takes part".
#[derive(Clone, Copy)]
struct Person {
    key: usize,
    name: RwSignal<String>,
    role: RwSignal<Role>,
}

impl Person {
    fn new(key: usize, role: Role) -> Person {
        Person {
            key,
            name: RwSignal::new(String::new()),
            role: RwSignal::new(role),
        }
    }
}

/// The foster-care worker starts a shared plan: the child, the start date and who takes part.
/// Only a signed-in professional may (the plan belongs to their organisation): anyone else is
/// asked to sign in first.
#[component]
pub fn NewPlanForm(nav: Nav) -> impl IntoView {
    let i18n = use_i18n();
    let professional = use_professional();
    // Drawn anew only when this changes, not when the account is refreshed: the form keeps
    // what was typed.
    let signed_in = Memo::new(move |_| {
        professional
            .read
            .get()
            .then(|| professional.signed_in.with(Option::is_some))
    });
    // Why the form went away: the server ended the session while founding.
    let ended = RwSignal::new(None::<String>);
    view! {
        <h1>{tu_string!(i18n, new_plan_title)}</h1>
        {move || match signed_in.get() {
            None => view! { <p class="muted" role="status">{tu_string!(i18n, screen_loading)}</p> }.into_any(),
            Some(false) => view! {
                <section class="card" data-testid="sign-in-first">
                    {move || ended.get().map(|p| view! { <p class="alert" role="alert">{p}</p> })}
                    <p>{tu_string!(i18n, new_plan_sign_in_first)}</p>
                    <Link nav to=Screen::SignIn class="button primary wide" testid="sign-in-link">{tu_string!(i18n, pro_sign_in_title)}</Link>
                </section>
            }.into_any(),
            Some(true) => view! { <Founding nav ended/> }.into_any(),
        }}
    }
}

#[component]
fn Founding(nav: Nav, ended: RwSignal<Option<String>>) -> impl IntoView {
    let plans = use_plans();
    let professional = use_professional();
    let i18n = use_i18n();
    let today = chrono::Local::now().date_naive();
    let child = RwSignal::new(String::new());
    let start = RwSignal::new(today.to_string());
    let me = RwSignal::new(String::new());
    // Rows left without a name are skipped.
    let rows = RwSignal::new(vec![
        Person::new(0, Role::Parent),
        Person::new(1, Role::FosterParent),
        Person::new(2, Role::Guardian),
    ]);
    let problem = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (Some(start_date), false, false) = (
            start.get_untracked().parse().ok(),
            child.get_untracked().trim().is_empty(),
            me.get_untracked().trim().is_empty(),
        ) else {
            problem.set(Some(tu_string!(i18n, new_plan_incomplete).to_string()));
            return;
        };
        let members = rows
            .get_untracked()
            .iter()
            .map(|p| (p.name.get_untracked(), p.role.get_untracked()))
            .filter(|(name, _)| !name.trim().is_empty())
            .collect();
        let new = NewPlan {
            child_name: child.get_untracked(),
            start_date,
            founder_name: me.get_untracked(),
            members,
        };
        saving.set(true);
        problem.set(None);
        leptos::task::spawn_local(async move {
            let session = professional.token().await;
            let founded = plans.found(new, session.as_deref()).await;
            match professional.checked(founded).await {
                Ok(plan) => nav.open(plan, Screen::Members),
                Err(e) => {
                    saving.set(false);
                    let text = match e {
                        SyncError::Offline => tu_string!(i18n, new_plan_offline).to_string(),
                        e @ SyncError::Rejected { .. } => crate::format::account_problem(i18n, &e),
                        _ => tu_string!(i18n, error_storage).to_string(),
                    };
                    // A session that ended takes the form away: said where the sign-in is.
                    ended.set(Some(text.clone()));
                    problem.set(Some(text));
                }
            }
        });
    };

    view! {
        <p>{tu_string!(i18n, new_plan_intro)}</p>
        <form class="card form" novalidate on:submit=submit data-testid="new-plan-form">
            <label class="field">
                <span>{tu_string!(i18n, child_first_name)}</span>
                <input type="text" autocomplete="off" required bind:value=child/>
            </label>
            <label class="field">
                <span>{tu_string!(i18n, start_date)}</span>
                <input type="date" required bind:value=start/>
            </label>
            <label class="field">
                <span>{tu_string!(i18n, your_name)}</span>
                <input type="text" autocomplete="name" required bind:value=me/>
            </label>
            <fieldset>
                <legend>{tu_string!(i18n, who_takes_part)}</legend>
                <For each=move || rows.get() key=|p| p.key let:person>
                    <div class="row">
                        <label class="field">
                            <span>{tu_string!(i18n, name)}</span>
                            <input type="text" autocomplete="off" bind:value=person.name/>
                        </label>
                        <label class="field">
                            <span>{tu_string!(i18n, role)}</span>
                            <select on:change=move |ev| {
                                if let Some(r) = Role::from_key(&event_target_value(&ev)) { person.role.set(r) }
                            }>
                                {ROLES.into_iter().map(|r| view! {
                                    <option value=r.key() selected=person.role.get_untracked() == r>{format::role(i18n.get_locale_untracked(), r)}</option>
                                }).collect_view()}
                            </select>
                        </label>
                    </div>
                </For>
                <button type="button" class="button wide"
                    on:click=move |_| rows.update(|r| r.push(Person::new(r.len(), Role::Parent)))>
                    {tu_string!(i18n, add_person)}
                </button>
            </fieldset>
            {move || problem.get().map(|p| view! { <p class="alert" role="alert">{p}</p> })}
            <button type="submit" class="button primary wide" disabled=move || saving.get() data-testid="create-plan">
                {tu_string!(i18n, create_plan)}
            </button>
        </form>
    }
}
