use leptos::prelude::*;

/// A face for the five-point scale (1 very hard … 5 very good), so the scale reads without words.
/// Drawn as SVG: emoji fonts differ per phone, and some have none.
#[component]
pub fn Face(rating: u8) -> impl IntoView {
    let r = rating.clamp(1, 5);
    // The mouth bends from a frown (1) through a straight line (3) to a smile (5).
    let mouth = ["M7.5 15.5 Q12 11 16.5 15.5", "M7.5 15.5 Q12 13.3 16.5 15.5", "M7.5 15.5 Q12 15.5 16.5 15.5",
        "M7.5 15.5 Q12 17.7 16.5 15.5", "M7.5 15.5 Q12 20 16.5 15.5"][usize::from(r - 1)];
    view! {
        <svg class=["face face-1", "face face-2", "face face-3", "face face-4", "face face-5"][usize::from(r - 1)] viewBox="0 0 24 24" width="30" height="30" aria-hidden="true">
            <circle cx="12" cy="12" r="10.5"/>
            <circle class="eye" cx="8.8" cy="9.5" r="1.3"/>
            <circle class="eye" cx="15.2" cy="9.5" r="1.3"/>
            <path class="mouth" d=mouth/>
        </svg>
    }
}
