use koers_core::plan::Member;
use koers_core::{allowed, Action, Edit, Entity, Field, MemberId, Role};
use leptos::prelude::*;
use uuid::Uuid;

use crate::components::history::HistoryToggle;
use crate::components::notice::{save, NoticeBar};
use crate::format;
use crate::forms::optional_text;
use crate::i18n::*;
use crate::plans::use_plans;
use crate::sync::{self, Device, Invite, InviteInfo, SyncError};

/// Who takes part, their phones and when each was last seen. The worker invites people (a link
/// and a QR code), removes a phone that should no longer see the plan, adds someone who joins
/// later (a new foster family, another guardian) and takes out someone who no longer takes part.
#[component]
pub fn Members(role: RwSignal<Option<Role>>) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let devices = RwSignal::new(Vec::<Device>::new());
    let open_invites = RwSignal::new(Vec::<InviteInfo>::new());
    let invite = RwSignal::new(None::<(MemberId, Invite)>);
    let problem = RwSignal::new(None::<String>);
    // Redrawn only when someone leaves, not on every change: an open history stays open.
    let former = Memo::new(move |_| {
        plans.plan.with(|p| {
            p.as_ref()
                .map(|p| p.former_members.clone())
                .unwrap_or_default()
        })
    });
    let manages = move || {
        role.get()
            .is_some_and(|r| allowed(r, Action::ManageMembers))
    };
    let fail = move |e: SyncError| {
        problem.set(Some(match e {
            SyncError::Offline => tu_string!(i18n, members_offline).to_string(),
            SyncError::Rejected { code, .. } => crate::format::refusal(i18n, &code),
            _ => tu_string!(i18n, error_storage).to_string(),
        }))
    };
    let refresh = move || {
        let Some(session) = plans.session.get_untracked() else {
            return;
        };
        leptos::task::spawn_local(async move {
            match sync::devices(&session).await {
                Ok(list) => devices.set(list),
                Err(e) => return fail(e),
            }
            // Only the worker may list invites; others simply see none.
            if let Ok(list) = sync::invites(&session).await {
                open_invites.set(list.into_iter().filter(|i| i.status == "open").collect());
            }
        });
    };
    refresh();
    let invite_member = move |member: MemberId| {
        let Some(session) = plans.session.get_untracked() else {
            return;
        };
        leptos::task::spawn_local(async move {
            match sync::invite(&session, member).await {
                Ok(i) => {
                    invite.set(Some((member, i)));
                    refresh();
                }
                Err(e) => fail(e),
            }
        });
    };
    let revoke = move |device: String| {
        let Some(session) = plans.session.get_untracked() else {
            return;
        };
        leptos::task::spawn_local(async move {
            match sync::revoke_device(&session, &device).await {
                Ok(()) => refresh(),
                Err(e) => fail(e),
            }
        });
    };
    let withdraw = move |id: String| {
        let Some(session) = plans.session.get_untracked() else {
            return;
        };
        leptos::task::spawn_local(async move {
            match sync::revoke_invite(&session, &id).await {
                Ok(()) => {
                    invite.update(|i| {
                        if i.as_ref().is_some_and(|(_, shown)| shown.invite == id) {
                            *i = None;
                        }
                    });
                    refresh();
                }
                Err(e) => fail(e),
            }
        });
    };
    let members = move || {
        plans
            .plan
            .with(|p| p.as_ref().map(|p| p.members.clone()).unwrap_or_default())
    };

    let me = move || plans.session.with(|s| s.as_ref().map(|s| s.member));

    view! {
        <h1>{tu_string!(i18n, members_title)}</h1>
        <NoticeBar notice=plans.notice/>
        {move || problem.get().map(|p| view! { <p class="alert" role="alert">{p}</p> })}
        <Show when=manages>
            <ContactPersonChoice role/>
        </Show>
        <ul class="members" data-testid="members">
            <For each=members key=|m| (m.id, m.name.clone(), m.role, m.phone.clone()) let:m>
                <li class="card member" data-role=m.role.key()>
                    <p><strong>{m.name.clone()}</strong>" · "{format::role(i18n.get_locale_untracked(), m.role)}</p>
                    {
                        let member = m.clone();
                        move || manages().then(|| view! {
                            <details data-testid="edit-member">
                                <summary>{tu_string!(i18n, edit)}</summary>
                                <MemberForm role member=Some(member.clone())/>
                            </details>
                        })
                    }
                    <ul class="devices">
                        {move || {
                            let mine: Vec<Device> = devices.get().into_iter().filter(|d| d.member == m.id && !d.revoked).collect();
                            if mine.is_empty() {
                                return view! { <li class="muted">{tu_string!(i18n, no_devices)}</li> }.into_any();
                            }
                            mine.into_iter().map(|d| {
                                let seen = d.last_seen_at.as_deref().map(|t| tu_string!(i18n, last_seen, time = format::instant(i18n.get_locale_untracked(), t)).to_string());
                                // Removing one's own phone would lock oneself out.
                                let own = plans.session.with_untracked(|s| s.as_ref().is_some_and(|s| s.member == d.member));
                                let id = d.device.clone();
                                view! {
                                    <li class="device">
                                        <span>{d.name.clone().unwrap_or_default()}" "{seen}</span>
                                        <Show when=move || manages() && !own>
                                            <button class="button small" data-testid="revoke-device"
                                                on:click={let id = id.clone(); move |_| revoke(id.clone())}>
                                                {tu_string!(i18n, revoke)}
                                            </button>
                                        </Show>
                                    </li>
                                }
                            }).collect_view().into_any()
                        }}
                    </ul>
                    <ul class="devices">
                        {move || open_invites.get().into_iter().filter(|i| i.member == m.id).map(|i| {
                            let until = tu_string!(i18n, invite_open_until, date = format::instant(i18n.get_locale_untracked(), &i.expires_at)).to_string();
                            let id = i.invite.clone();
                            view! {
                                <li class="device" data-testid="open-invite">
                                    <span>{until}</span>
                                    <button class="button small" data-testid="withdraw-invite" on:click=move |_| withdraw(id.clone())>
                                        {tu_string!(i18n, withdraw_invite)}
                                    </button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                    <Show when=move || manages() && m.role != Role::FosterCareWorker>
                        <button class="button wide" data-testid="invite" on:click=move |_| invite_member(m.id)>
                            {tu_string!(i18n, invite)}
                        </button>
                    </Show>
                    {
                        let (id, name) = (m.id, m.name.clone());
                        move || (manages() && me() != Some(id)).then(|| view! { <TakeOut role id name=name.clone()/> })
                    }
                    <HistoryToggle entity=Entity::Member(m.id)/>
                    {move || invite.get().filter(|(who, _)| *who == m.id).map(|(_, i)| view! {
                        <div class="invite" data-testid="invite-card">
                            <p>{tu_string!(i18n, invite_explained, date = format::instant(i18n.get_locale_untracked(), &i.expires_at)).to_string()}</p>
                            <p><a href=i.link.clone().unwrap_or_default() data-testid="invite-link">{i.link.clone().unwrap_or_default()}</a></p>
                            // The QR code is SVG made by the server: no script, only shapes.
                            <div class="qr" inner_html=i.qr_svg.clone().unwrap_or_default()></div>
                        </div>
                    })}
                </li>
            </For>
        </ul>
        // Everyone sees who left, as they see who takes part.
        {move || {
            let former = former.get();
            (!former.is_empty()).then(|| view! {
                <section class="card" data-testid="former-members">
                    <h2>{tu_string!(i18n, former_members)}</h2>
                    <ul>
                        {former.into_iter().map(|m| view! {
                            <li>
                                {m.name}" · "{format::role(i18n.get_locale_untracked(), m.role)}
                                <HistoryToggle entity=Entity::Member(m.id)/>
                            </li>
                        }).collect_view()}
                    </ul>
                </section>
            })
        }}
        <Show when=manages>
            <details class="card" data-testid="add-member">
                <summary>{tu_string!(i18n, add_member)}</summary>
                <MemberForm role member=None/>
            </details>
        </Show>
    }
}

/// The one fixed contact person the guideline asks for, shown on everyone's home with a call
/// button. The worker chooses again when people change.
#[component]
fn ContactPersonChoice(role: RwSignal<Option<Role>>) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let plan = plans.shown();
    let choose = move |ev: leptos::ev::Event| {
        let (Ok(id), Some(by)) = (
            event_target_value(&ev).parse::<Uuid>(),
            role.get_untracked(),
        ) else {
            return;
        };
        let edits = vec![Edit::new(
            Entity::Plan,
            Field::ContactPerson,
            Some(MemberId(id)),
        )];
        leptos::task::spawn_local(async move {
            save(
                plans,
                i18n,
                by,
                edits,
                tu_string!(i18n, contact_person_saved),
            )
            .await;
        });
    };
    // Radio buttons rather than a select: a closed select cuts "name · role" off on a phone.
    view! {
        <section class="card form" data-testid="contact-person-choice">
            <fieldset>
                <legend>{tu_string!(i18n, contact_person)}</legend>
                {move || plan.with(|p| {
                    let current = p.contact_person().map(|m| m.id);
                    let none = current.is_none().then(|| view! {
                        <p class="muted">{tu_string!(i18n, contact_person_none)}</p>
                    });
                    let members = p.members.iter().map(|m| view! {
                        <label class="choice">
                            <input type="radio" name="contact-person" value=m.id.0.to_string()
                                prop:checked=current == Some(m.id) on:change=choose/>
                            <span>{format!("{} · {}", m.name, format::role(i18n.get_locale_untracked(), m.role))}</span>
                        </label>
                    }).collect_view();
                    (none, view! { <div class="choice-list">{members}</div> })
                })}
            </fieldset>
        </section>
    }
}

/// Someone who joins the plan later (a new foster family, another guardian, a care worker), or a
/// member's name and phone number as the worker keeps them up to date. Only a new member gets a
/// role here: a member's role decides what they may do, so it is not changed afterwards.
#[component]
fn MemberForm(role: RwSignal<Option<Role>>, member: Option<Member>) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let m = member.as_ref();
    let name = RwSignal::new(m.map(|m| m.name.clone()).unwrap_or_default());
    let phone = RwSignal::new(m.and_then(|m| m.phone.clone()).unwrap_or_default());
    let new_role = RwSignal::new(Role::FosterParent);
    let form_error = RwSignal::new(None::<&'static str>);
    let existing = m.map(|m| m.id);
    let is_new = existing.is_none();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let who = name.get_untracked().trim().to_string();
        let (false, Some(by)) = (who.is_empty(), role.get_untracked()) else {
            form_error.set(Some(tu_string!(i18n, error_name)));
            return;
        };
        form_error.set(None);
        // A new member gets a new id on every add: the form stays open for the next one.
        let e = Entity::Member(existing.unwrap_or_else(|| MemberId(Uuid::new_v4())));
        let mut edits = vec![
            Edit::new(e, Field::Name, who),
            Edit::new(e, Field::Phone, optional_text(phone)),
        ];
        if is_new {
            edits.insert(1, Edit::new(e, Field::Role, new_role.get_untracked()));
        }
        let confirmation = if is_new {
            tu_string!(i18n, member_added)
        } else {
            tu_string!(i18n, member_saved)
        };
        leptos::task::spawn_local(async move {
            if save(plans, i18n, by, edits, confirmation).await && is_new {
                name.set(String::new());
                phone.set(String::new());
            }
        });
    };
    view! {
        <form class="form" novalidate on:submit=submit>
            <label class="field"><span>{tu_string!(i18n, name)}</span><input type="text" maxlength="4000" bind:value=name/></label>
            {is_new.then(|| view! {
                <label class="field">
                    <span>{tu_string!(i18n, role)}</span>
                    <select on:change=move |ev| {
                        if let Some(r) = Role::from_key(&event_target_value(&ev)) { new_role.set(r) }
                    }>
                        {Role::ALL.into_iter().map(|r| view! {
                            <option value=r.key() selected=new_role.get_untracked() == r>{format::role(i18n.get_locale_untracked(), r)}</option>
                        }).collect_view()}
                    </select>
                </label>
            })}
            <label class="field"><span>{tu_string!(i18n, phone)}</span><input type="tel" maxlength="40" bind:value=phone/></label>
            {move || form_error.get().map(|e| view! { <p class="alert" role="alert">{e}</p> })}
            <button type="submit" class="button primary wide">
                {if is_new { tu_string!(i18n, add_member) } else { tu_string!(i18n, save) }}
            </button>
        </form>
    }
}

/// Takes someone out of the plan, after saying what that means. Their words stay in the plan.
#[component]
fn TakeOut(role: RwSignal<Option<Role>>, id: MemberId, name: String) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let asking = RwSignal::new(false);
    let confirm = move |_| {
        let Some(by) = role.get_untracked() else {
            return;
        };
        let edits = vec![Edit::new(Entity::Member(id), Field::Deleted, true)];
        leptos::task::spawn_local(async move {
            save(plans, i18n, by, edits, tu_string!(i18n, member_taken_out)).await;
        });
    };
    let warning = tu_string!(i18n, take_out_warning, name = name).to_string();
    view! {
        <Show when=move || asking.get() fallback=move || view! {
            <button type="button" class="button wide" data-testid="take-out" on:click=move |_| asking.set(true)>
                {tu_string!(i18n, take_out)}
            </button>
        }>
            <div class="alert" role="alert" data-testid="take-out-confirm">
                <p>{warning.clone()}</p>
                <button type="button" class="button wide danger" on:click=confirm>{tu_string!(i18n, take_out_confirm)}</button>
                <button type="button" class="button wide" on:click=move |_| asking.set(false)>{tu_string!(i18n, cancel)}</button>
            </div>
        </Show>
    }
}
