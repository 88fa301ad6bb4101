pub mod choose_role;
pub mod home;
pub mod join;
pub mod log_contact;
pub mod members;
pub mod new_plan;
