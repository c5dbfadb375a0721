//! Job errors, and their text in `failed_jobs.exception`.
//!
//! Laravel stores PHP's string form of the throwable: `<Class>: <message> in <file>:<line>`,
//! then `Stack trace:` and numbered frames (spec §7.1). Nothing parses it, but Laravel
//! developers read it in `queue:failed` and Horizon-like tools, so cv-worker keeps the shape:
//! the class is a PHP-style name a Laravel developer recognises
//! (`Illuminate\Queue\MaxAttemptsExceededException`), the location is the Rust source that
//! raised it, and the "stack" names the job, queue and attempt.

use std::fmt;
use std::panic::Location;

/// Laravel's exception when a job has been attempted more than its tries allow.
pub const MAX_ATTEMPTS_EXCEEDED: &str = "Illuminate\\Queue\\MaxAttemptsExceededException";
/// Laravel's exception when a job ran past its timeout.
pub const TIMEOUT_EXCEEDED: &str = "Illuminate\\Queue\\TimeoutExceededException";
/// Laravel's class for `$this->fail()` without an exception.
pub const MANUALLY_FAILED: &str = "Illuminate\\Queue\\ManuallyFailedException";
/// A payload cv-worker cannot read.
pub const INVALID_PAYLOAD: &str = "CvWorker\\Exceptions\\InvalidPayloadException";
/// A job class cv-worker has no handler for.
pub const NO_HANDLER: &str = "CvWorker\\Exceptions\\NoHandlerException";
/// A handler that panicked.
pub const HANDLER_PANIC: &str = "CvWorker\\Exceptions\\HandlerPanicException";
/// A generic runtime failure inside a handler.
pub const RUNTIME: &str = "RuntimeException";

/// An error raised while working a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobError {
    /// A PHP-style exception class name.
    pub class: String,
    pub message: String,
    /// Where in cv-worker's source the error was raised (`src/worker/mod.rs:120`).
    pub file: &'static str,
    pub line: u32,
    /// Causes, outermost first, as `Next` entries.
    pub causes: Vec<String>,
}

impl JobError {
    #[track_caller]
    pub fn new(class: impl Into<String>, message: impl Into<String>) -> Self {
        let location = Location::caller();
        JobError {
            class: class.into(),
            message: message.into(),
            file: location.file(),
            line: location.line(),
            causes: Vec::new(),
        }
    }

    /// A `RuntimeException` with this message.
    #[track_caller]
    pub fn runtime(message: impl Into<String>) -> Self {
        JobError::new(RUNTIME, message)
    }

    /// From any error: the message of the error and its sources as causes.
    #[track_caller]
    pub fn from_error(class: &str, error: &(dyn std::error::Error + 'static)) -> Self {
        let mut e = JobError::new(class, error.to_string());
        let mut source = error.source();
        while let Some(s) = source {
            e.causes.push(s.to_string());
            source = s.source();
        }
        e
    }

    /// `<displayName> has been attempted too many times.` (Laravel 11+ wording).
    #[track_caller]
    pub fn max_attempts(display_name: &str) -> Self {
        JobError::new(MAX_ATTEMPTS_EXCEEDED, format!("{display_name} has been attempted too many times."))
    }

    /// `<displayName> has timed out.`
    #[track_caller]
    pub fn timed_out(display_name: &str) -> Self {
        JobError::new(TIMEOUT_EXCEEDED, format!("{display_name} has timed out."))
    }

    /// The `failed_jobs.exception` text, in PHP's throwable string shape.
    pub fn to_failed_job_text(&self, frame: &str) -> String {
        let mut out = format!(
            "{}: {} in {}:{}\nStack trace:\n#0 {}\n#1 {{main}}",
            self.class, self.message, self.file, self.line, frame
        );
        for cause in &self.causes {
            out.push_str(&format!("\n\nNext {}: {}", RUNTIME, cause));
        }
        out
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.class, self.message)?;
        for cause in &self.causes {
            write!(f, ": {cause}")?;
        }
        Ok(())
    }
}

impl std::error::Error for JobError {}

impl From<anyhow::Error> for JobError {
    #[track_caller]
    fn from(error: anyhow::Error) -> Self {
        let mut chain = error.chain();
        let mut e = JobError::runtime(chain.next().map(|c| c.to_string()).unwrap_or_default());
        e.causes = chain.map(|c| c.to_string()).collect();
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_has_the_php_first_line_shape() {
        let e = JobError::max_attempts("App\\Jobs\\X");
        let text = e.to_failed_job_text("cv-worker: App\\Jobs\\X (queue default, attempt 2)");
        let first = text.lines().next().unwrap();
        assert!(
            first.starts_with("Illuminate\\Queue\\MaxAttemptsExceededException: App\\Jobs\\X has been attempted too many times. in src/protocol/exception.rs:"),
            "{first}"
        );
        assert_eq!(text.lines().nth(1), Some("Stack trace:"));
        assert!(text.ends_with("#1 {main}"));
    }

    #[test]
    fn anyhow_chains_become_next_entries() {
        let err = anyhow::anyhow!("disk full").context("writing cv-1.pdf");
        let e = JobError::from(err);
        assert_eq!(e.message, "writing cv-1.pdf");
        assert_eq!(e.causes, vec!["disk full".to_string()]);
        assert!(e.to_failed_job_text("f").contains("\n\nNext RuntimeException: disk full"));
    }
}
