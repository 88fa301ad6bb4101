//! Small per-device settings kept in localStorage (gloo-storage): never plan data, which lives
//! only in the operation log.

use gloo_storage::{LocalStorage, Storage};
use koers_core::Role;
use leptos::prelude::*;

use crate::i18n::Locale;

const ROLE: &str = "koers.role";
const LOCALE: &str = "koers.locale";

/// The role this device speaks for, remembered across visits.
pub fn role() -> RwSignal<Option<Role>> {
    let role = RwSignal::new(stored_role());
    Effect::new(move |_| store_role(role.get()));
    role
}

/// The remembered role, read once (the first paint reads it before the app runs).
pub fn stored_role() -> Option<Role> {
    let stored: Option<String> = LocalStorage::get(ROLE).ok();
    stored.as_deref().and_then(Role::from_key)
}

/// Remembers `role` (or forgets the choice).
pub fn store_role(role: Option<Role>) {
    match role {
        // A full or blocked localStorage only costs the remembered choice, so ignore failure.
        Some(r) => drop(LocalStorage::set(ROLE, r.key())),
        None => LocalStorage::delete(ROLE),
    }
}

pub fn stored_locale() -> Locale {
    match LocalStorage::get::<String>(LOCALE).ok().as_deref() {
        Some("en") => Locale::en,
        _ => Locale::nl,
    }
}

pub fn store_locale(locale: Locale) {
    let _ = LocalStorage::set(LOCALE, if locale == Locale::en { "en" } else { "nl" });
}

/// Forgets everything Koers keeps in localStorage on this device (when Koers is wiped).
pub fn clear() {
    LocalStorage::clear();
}
