//! The Laravel queue wire protocol: payload JSON, PHP serialization, attempt policy.
pub mod php;
