//! What form fields hold, read the same way on every screen.

use chrono::NaiveDate;
use leptos::prelude::*;

/// The field's text, trimmed; nothing when it is empty.
pub fn optional_text(field: RwSignal<String>) -> Option<String> {
    let text = field.get_untracked();
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// An optional date field (`<input type=date>` gives YYYY-MM-DD): nothing when empty, an error
/// when it holds something that is not a date.
pub fn optional_date(field: RwSignal<String>) -> Result<Option<NaiveDate>, ()> {
    match field.get_untracked().trim() {
        "" => Ok(None),
        text => text.parse().map(Some).map_err(drop),
    }
}
