//! The Laravel queue wire protocol: payload JSON, PHP serialization, commands, attempt
//! policy and exception texts.

pub mod command;
pub mod exception;
pub mod payload;
pub mod php;
pub mod policy;
