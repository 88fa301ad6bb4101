//! A sentence about the last change: "saved", or what went wrong and what to do.

#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub text: String,
    pub is_error: bool,
}
