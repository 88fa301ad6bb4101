pub mod choose_role;
pub mod home;
pub mod log_contact;
