pub mod contact_list;
pub mod deadline;
pub mod face;
pub mod goal_list;
pub mod notice;
pub mod phase_timeline;
pub mod update_banner;
