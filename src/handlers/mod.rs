//! The handler registry: job class name → the code that runs it.
//!
//! This is the API through which cv-worker's CV jobs plug in, and through which tests and
//! embedding programs register their own. A handler receives a [`JobContext`] (the parsed
//! payload and command) and returns a [`HandlerOutcome`] or a [`JobError`]; the worker
//! applies Laravel's attempt policy to errors, timeouts and panics.

pub mod cv;
pub mod diagnostics;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;

use crate::protocol::command::Command;
use crate::protocol::exception::JobError;
use crate::protocol::payload::Payload;

/// Everything a handler may read about the job it runs.
#[derive(Debug, Clone)]
pub struct JobContext {
    /// `jobs.id` of this reservation.
    pub id: i64,
    /// `payload.uuid` (a generated one when the payload had none).
    pub uuid: String,
    pub queue: String,
    /// Post-increment attempts: 1 on the first run, as Laravel's `$this->attempts()`.
    pub attempts: i64,
    pub payload: Arc<Payload>,
    pub command: Arc<Command>,
    /// The batch this job belongs to, if any.
    pub batch_id: Option<String>,
}

/// What a handler asks for when it does not simply succeed.
#[derive(Debug, Clone, PartialEq)]
pub enum HandlerOutcome {
    /// Done: delete the row.
    Done,
    /// `$this->release($delay)`: back to the queue; the next reservation counts an attempt.
    Release { delay: i64 },
    /// `$this->fail($e)`: straight to failed_jobs, whatever the tries left.
    Fail(JobError),
    /// `deleteWhenMissingModels`: delete quietly, counted as success.
    DeleteQuietly,
}

#[async_trait]
pub trait Handler: Send + Sync + 'static {
    async fn handle(&self, job: JobContext) -> Result<HandlerOutcome, JobError>;
}

struct FnHandler<F>(F);

#[async_trait]
impl<F, Fut> Handler for FnHandler<F>
where
    F: Fn(JobContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<HandlerOutcome, JobError>> + Send + 'static,
{
    async fn handle(&self, job: JobContext) -> Result<HandlerOutcome, JobError> {
        (self.0)(job).await
    }
}

/// Class name → handler.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, Arc<dyn Handler>>,
}

impl Registry {
    pub fn new() -> Self {
        Registry::default()
    }

    pub fn register(&mut self, class: impl Into<String>, handler: impl Handler) -> &mut Self {
        self.handlers.insert(class.into(), Arc::new(handler));
        self
    }

    /// Registers an async closure.
    pub fn register_fn<F, Fut>(&mut self, class: impl Into<String>, f: F) -> &mut Self
    where
        F: Fn(JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<HandlerOutcome, JobError>> + Send + 'static,
    {
        self.register(class, FnHandler(f))
    }

    /// Routes another class name to the handler of `existing` (an app whose job class has a
    /// different name, e.g. `App\Jobs\Cv\RenderPdf` → `App\Jobs\GenerateCvPdf`). Returns
    /// false when `existing` has no handler.
    pub fn alias(&mut self, class: impl Into<String>, existing: &str) -> bool {
        match self.get(existing) {
            Some(handler) => {
                self.handlers.insert(class.into(), handler);
                true
            }
            None => false,
        }
    }

    pub fn get(&self, class: &str) -> Option<Arc<dyn Handler>> {
        self.handlers.get(class).cloned()
    }

    pub fn classes(&self) -> impl Iterator<Item = &str> {
        self.handlers.keys().map(String::as_str)
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.handlers.keys()).finish()
    }
}

/// The handlers cv-worker ships with: the CV jobs (writing under `storage_root`) and the
/// diagnostic jobs.
pub fn builtin(store: Arc<dyn crate::store::Store>, storage_root: std::path::PathBuf) -> Registry {
    let mut registry = Registry::new();
    cv::register(&mut registry, store, storage_root);
    diagnostics::register(&mut registry);
    registry
}
