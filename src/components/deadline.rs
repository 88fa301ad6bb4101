use leptos::prelude::*;

use crate::home_top::{DeadlineBody, DeadlineCard};

/// Days left until the perspective must be decided (one year after the start).
#[component]
pub fn DaysLeft(card: Memo<DeadlineCard>) -> impl IntoView {
    move || {
        let c = card.get();
        view! {
            <section class=c.class data-testid="deadline">
                {match c.body {
                    DeadlineBody::DaysLeft { days, unit, until } => view! {
                        <p class="big"><span data-testid="days-left">{days}</span>" "{unit}</p>
                        <p>{until}</p>
                    }.into_any(),
                    DeadlineBody::Line { text, class } => view! { <p class=class>{text}</p> }.into_any(),
                }}
            </section>
        }
    }
}
