use leptos::prelude::*;

use crate::format;
use crate::i18n::*;
use crate::plans::use_plans;

/// Online or offline, how many changes wait, when the plan was last synced. Shown on every screen
/// of a shared plan, and on "Mijn gezinnen" for all plans (no plan shown there).
#[component]
pub fn SyncBar() -> impl IntoView {
    let plans = use_plans();
    let i18n = use_i18n();
    move || {
        let overview = plans.plan.with(Option::is_none);
        if plans.session.with(Option::is_none) && !overview {
            // The example plan lives on this phone only: say so, so nobody thinks it is shared.
            return Some(view! {
                <p class="syncbar local" role="status" data-testid="sync-status">{tu_string!(i18n, sync_local_only)}</p>
            }.into_any());
        }
        let s = plans.sync.get();
        let pending = if overview {
            plans.entries.with(|entries| {
                entries
                    .iter()
                    .filter_map(|e| e.overview.as_ref().map(|o| o.pending))
                    .sum()
            })
        } else {
            s.pending.len()
        };
        let waiting = format::waiting(i18n.get_locale_untracked(), pending);
        let last = s.last_synced.map(|t| {
            tu_string!(
                i18n,
                sync_last,
                time = format::time_of(i18n.get_locale_untracked(), t)
            )
            .to_string()
        });
        Some(view! {
            <p class="syncbar" class:offline=!s.online role="status" data-testid="sync-status">
                <span class="dot" aria-hidden="true"></span>
                {if s.online { tu_string!(i18n, sync_online) } else { tu_string!(i18n, sync_offline) }}
                " · " <span data-testid="sync-pending">{waiting}</span>
                {last.map(|l| view! { " · " {l} })}
            </p>
        }.into_any())
    }
}
