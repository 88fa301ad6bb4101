use koers_core::{allowed, Action, Entity, Field};
use leptos::prelude::*;

use crate::format;
use crate::i18n::*;
use crate::plans::use_plans;

/// Who changed what, and when, newest first: every party sees the same account.
#[component]
pub fn History(entity: Entity) -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    let plan = plans.shown();
    // Words the worker hid stay in the log; only the worker (who may show them again) still
    // reads them here, everyone else reads that they were hidden.
    let viewer = plans
        .session
        .get_untracked()
        .map(|s| s.role)
        .or_else(crate::settings::stored_role);
    let reads_hidden = viewer.is_some_and(|r| allowed(r, Action::HideContribution));
    let rows = move || {
        let changes = plans.history(entity);
        plan.with(|p| {
            changes
                .into_iter()
                .map(|c| {
                    let who = p.member_or_former(c.author).map_or_else(String::new, |m| {
                        format!(
                            "{} ({})",
                            m.name,
                            format::role(i18n.get_locale_untracked(), m.role)
                        )
                    });
                    let locale = i18n.get_locale_untracked();
                    let written = format::at_millis(locale, c.hlc.millis as f64);
                    // Received much later than written (offline for days, or a clock set back):
                    // both times, so that backdating shows.
                    let when = match plans.received_late(c.op) {
                        Some(received) => tu_string!(
                            i18n,
                            history_written_received,
                            written = written,
                            received = format::at_millis(locale, received as f64)
                        )
                        .to_string(),
                        None => written,
                    };
                    let what = match (entity, c.field, c.value.as_bool()) {
                        // A member "deleted" is someone taken out of the plan: say so.
                        (Entity::Member(_), Field::Deleted, Some(true)) => {
                            tu_string!(i18n, history_taken_out).to_string()
                        }
                        _ if !reads_hidden
                            && p.is_hidden(entity, c.field)
                            && !matches!(
                                c.field,
                                Field::Hidden | Field::ParentViewHidden | Field::YouthViewHidden
                            ) =>
                        {
                            format!(
                                "{}: {}",
                                format::field(i18n, c.field),
                                tu_string!(i18n, field_hidden)
                            )
                        }
                        _ => format!(
                            "{}: {}",
                            format::field(i18n, c.field),
                            format::value(i18n, p, c.field, &c.value)
                        ),
                    };
                    (c.hlc, who, when, what, c.current)
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <section class="card" aria-labelledby="history-title">
            <h2 id="history-title">{tu_string!(i18n, history_title)}</h2>
            <ol class="history" data-testid="history">
                {move || rows().into_iter().map(|r| view! {
                    <li class:overwritten=!r.4>
                        <span class="muted">{format!("{} · {}", r.2, r.1)}</span>
                        <span>{r.3}</span>
                    </li>
                }).collect_view()}
            </ol>
        </section>
    }
}

/// The history of one item behind a "Geschiedenis" toggle: drawn only when opened, as long
/// lists (a year of contact moments) would otherwise each carry their history.
#[component]
pub fn HistoryToggle(entity: Entity) -> impl IntoView {
    let i18n = use_i18n();
    let open = RwSignal::new(false);
    view! {
        <details class="history-toggle" on:toggle=move |ev| {
            let details: web_sys::HtmlDetailsElement = event_target(&ev);
            open.set(details.open());
        }>
            <summary>{tu_string!(i18n, history_title)}</summary>
            {move || open.get().then(|| view! { <History entity/> })}
        </details>
    }
}
