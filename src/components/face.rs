use leptos::prelude::*;

/// A face for the five-point scale (1 very hard … 5 very good), so the scale reads without words.
/// Drawn as SVG with presentation attributes: emoji fonts differ per phone, and a `class` on an
/// SVG element cannot be set through the `className` property.
#[component]
pub fn Face(rating: u8) -> impl IntoView {
    let i = usize::from(rating.clamp(1, 5) - 1);
    let fill = ["#f4a6a0", "#f7c48e", "#f5e08c", "#bfe3a4", "#8fd4a0"][i];
    // The mouth bends from a frown (1) through a straight line (3) to a smile (5).
    let mouth = [
        "M7.5 15.5 Q12 11 16.5 15.5",
        "M7.5 15.5 Q12 13.3 16.5 15.5",
        "M7.5 15.5 Q12 15.5 16.5 15.5",
        "M7.5 15.5 Q12 17.7 16.5 15.5",
        "M7.5 15.5 Q12 20 16.5 15.5",
    ][i];
    view! {
        <svg viewBox="0 0 24 24" width="30" height="30" aria-hidden="true" data-rating=i + 1>
            <circle cx="12" cy="12" r="10.5" fill=fill stroke="#1b2529" stroke-width="1.2"/>
            <circle cx="8.8" cy="9.5" r="1.3" fill="#1b2529"/>
            <circle cx="15.2" cy="9.5" r="1.3" fill="#1b2529"/>
            <path d=mouth fill="none" stroke="#1b2529" stroke-width="1.6" stroke-linecap="round"/>
        </svg>
    }
}
