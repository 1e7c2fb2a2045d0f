//! Small types every rule module shares. This module imports nothing from the crate, so any
//! module may use it without making an import cycle.

/// A rejected field, named by its path in the request (`plan.ramp[2].percent`,
/// `windows[3].metrics.cost_per_request.sum_squares`) so the API and the form can point at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}
