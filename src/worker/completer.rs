//! Batched completion, in the manner of River's `jobcompleter`: outcomes queue up in a
//! channel while the previous batch is being written, and each batch is one transaction
//! (one DELETE, one INSERT for releases, one for failures). A write that fails is retried
//! with capped backoff and never dropped: until it succeeds the job keeps its slot, and if
//! the process dies the rows are reclaimed after `retry_after` (at-least-once, as Laravel).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::{Stats, unix_now};
use crate::store::{Completion, Store};

pub(crate) struct Pending {
    pub completion: Completion,
    /// Signalled once the outcome is committed.
    pub ack: oneshot::Sender<()>,
}

pub(crate) async fn run(
    store: Arc<dyn Store>,
    mut rx: mpsc::Receiver<Pending>,
    connection: String,
    max_batch: usize,
    stats: Arc<Stats>,
) {
    let max_batch = max_batch.max(1);
    let mut pending = Vec::with_capacity(max_batch);
    // Since when writes have been failing: logged once when an outage starts and once when
    // it ends, however many batches wait meanwhile.
    let mut failing_since: Option<std::time::Instant> = None;
    while rx.recv_many(&mut pending, max_batch).await > 0 {
        let (batch, acks): (Vec<Completion>, Vec<oneshot::Sender<()>>) =
            pending.drain(..).map(|p| (p.completion, p.ack)).unzip();
        tracing::debug!(batch = batch.len(), "completing");
        let mut backoff = Duration::from_millis(2);
        loop {
            match store.complete(&batch, &connection, unix_now()).await {
                Ok(report) => {
                    if report.lost > 0 {
                        tracing::warn!(
                            lost = report.lost,
                            "outcomes not written: their reservations had expired and were reclaimed by another worker"
                        );
                    }
                    stats.record(&report);
                    if let Some(since) = failing_since.take() {
                        tracing::info!(
                            jobs = batch.len(),
                            down_s = since.elapsed().as_secs_f64(),
                            "job completions written again"
                        );
                    }
                    break;
                }
                Err(e) => {
                    if e.is_conflict() {
                        // Deadlocks and serialization failures: retry the transaction (spec §13.1).
                        tracing::debug!(error = %e, jobs = batch.len(), "completion hit a transient conflict; retrying");
                    } else if failing_since.is_none() {
                        tracing::error!(error = %e, jobs = batch.len(), "cannot write job completions; retrying");
                        failing_since = Some(std::time::Instant::now());
                    } else {
                        tracing::debug!(error = %e, jobs = batch.len(), "completion write still failing");
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
        for ack in acks {
            let _ = ack.send(());
        }
    }
}
