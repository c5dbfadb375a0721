//! `failed_jobs`: listing, retrying and deleting failed jobs with the semantics of artisan's
//! `queue:failed`, `queue:retry`, `queue:forget`, `queue:flush` and `queue:prune-failed`
//! (spec `laravel-queue.md` §7). Library functions: the CLI and the admin API call these.
//!
//! **Retry** re-queues the stored payload on the row's queue with `attempts` 0, immediately
//! available, and deletes the failed row — in one transaction, and only if the failed row was
//! still there (two concurrent retries of one job queue it once). Laravel json-decodes and
//! re-encodes the payload there, for two reasons: to reset an `attempts` key (database payloads
//! have none; we set it to 0 in place when present, keeping every other byte) and to refresh
//! `retryUntil` by calling the job's PHP `retryUntil()` method, which cv-worker cannot run. So
//! cv-worker keeps the payload bytes as they are: a job with a `retryUntil` that has passed
//! will be failed again as "attempted too many times" on its next reservation; retry such jobs
//! with `php artisan queue:retry`, which re-evaluates `retryUntil()` ([`RetryResult::stale_retry_until`]
//! flags them).
//!
//! Laravel pushes a retried job onto the queue *connection* named in the row; cv-worker has one
//! database, so it always re-queues into the `jobs` table of the store it was given (the
//! connection name is kept in the payload only). `--range` numbers are looked up as uuids, as
//! Laravel does, and then as `failed_jobs.id`, which is what they mean to an operator.
//!
//! Retrying a job of a Laravel batch does not touch `job_batches` (neither does
//! `queue:retry-batch`): when the retried job succeeds, the worker decrements `pending_jobs`
//! and removes its uuid from `failed_job_ids`; `failed_jobs` keeps counting failure events.

use serde::Serialize;

use crate::store::{NewJob, Store, StoreError, failed_at_string};

/// A `failed_jobs` row (`failed_at` as `YYYY-MM-DD HH:MM:SS`, as Laravel writes it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedJobRow {
    pub id: i64,
    pub uuid: String,
    pub connection: String,
    pub queue: String,
    pub payload: String,
    pub exception: String,
    pub failed_at: String,
}

/// One line of `queue:failed`: ID (uuid), Connection, Queue, Class, Failed At.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedJobSummary {
    pub id: String,
    pub connection: String,
    pub queue: String,
    pub class: String,
    pub failed_at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum FailedError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The outcome of retrying one id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetryResult {
    pub id: String,
    /// False: `Unable to find failed job with ID [id].`
    pub retried: bool,
    /// The payload's `retryUntil` has passed (see the module docs).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stale_retry_until: bool,
}

/// Which failed jobs `retry` means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// `all`.
    All,
    /// `--queue=q`.
    Queue(String),
    /// uuids, plus `--range=a-b` numbers. A number is looked up as a uuid (as Laravel does) and,
    /// failing that, as `failed_jobs.id` (what Laravel's older numeric-id provider meant).
    Ids(Vec<String>),
}

/// `queue:failed`'s class column: the first double-quoted token of `data.command` (the class
/// in `O:n:"Class"`), else `job`.
pub fn class_name(payload: &str) -> String {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(payload) else {
        return String::new();
    };
    let job = v.get("job").and_then(|j| j.as_str()).unwrap_or_default().to_string();
    match v.pointer("/data/command") {
        None | Some(serde_json::Value::Null) => job,
        Some(command) => {
            let text = match command {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let mut parts = text.splitn(3, '"');
            parts.next();
            match (parts.next(), parts.next()) {
                (Some(class), Some(_)) if !class.is_empty() => class.to_string(),
                _ => job,
            }
        }
    }
}

impl From<&FailedJobRow> for FailedJobSummary {
    fn from(r: &FailedJobRow) -> Self {
        FailedJobSummary {
            id: r.uuid.clone(),
            connection: r.connection.clone(),
            queue: r.queue.clone(),
            class: class_name(&r.payload),
            failed_at: r.failed_at.clone(),
        }
    }
}

/// `queue:failed`: newest first.
pub async fn list(store: &dyn Store) -> Result<Vec<FailedJobSummary>, FailedError> {
    Ok(store.failed_list().await?.iter().map(FailedJobSummary::from).collect())
}

/// One failed job, with payload and exception.
pub async fn show(store: &dyn Store, uuid: &str) -> Result<Option<FailedJobRow>, FailedError> {
    Ok(store.failed_find(uuid).await?)
}

/// `queue:forget`: true when a row was deleted.
pub async fn forget(store: &dyn Store, uuid: &str) -> Result<bool, FailedError> {
    Ok(store.failed_forget(uuid).await?)
}

/// `queue:flush [--hours=h]`: all rows, or those with `failed_at <= now - h hours`.
pub async fn flush(store: &dyn Store, hours: Option<i64>, now: i64) -> Result<u64, FailedError> {
    let before = hours.map(|h| failed_at_string(now - h * 3600));
    Ok(store.failed_flush(before.as_deref()).await?)
}

/// `queue:prune-failed --hours=h` (default 24): rows with `failed_at < now - h hours`.
pub async fn prune(store: &dyn Store, hours: i64, now: i64) -> Result<u64, FailedError> {
    Ok(store.failed_prune(&failed_at_string(now - hours * 3600)).await?)
}

/// The uuids a selection means, newest first for `all` / `--queue` (as `queue:retry`).
pub async fn resolve(store: &dyn Store, selection: &Selection) -> Result<Vec<String>, FailedError> {
    Ok(match selection {
        Selection::All => store.failed_list().await?.into_iter().map(|r| r.uuid).collect(),
        Selection::Queue(q) => {
            store.failed_list().await?.into_iter().filter(|r| &r.queue == q).map(|r| r.uuid).collect()
        }
        Selection::Ids(ids) => {
            let mut out: Vec<String> = Vec::new();
            let mut rows: Option<Vec<FailedJobRow>> = None;
            for id in ids.iter().filter(|i| !i.is_empty()) {
                let mut resolved = id.clone();
                if id.bytes().all(|b| b.is_ascii_digit()) && store.failed_find(id).await?.is_none() {
                    if rows.is_none() {
                        rows = Some(store.failed_list().await?);
                    }
                    if let Some(r) = rows.iter().flatten().find(|r| r.id.to_string() == *id) {
                        resolved = r.uuid.clone();
                    }
                }
                if !out.contains(&resolved) {
                    out.push(resolved);
                }
            }
            out
        }
    })
}

/// Parses `a-b` ranges (`queue:retry --range`); anything else is ignored, as Laravel does.
pub fn expand_ranges(ranges: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for r in ranges {
        if let Some((a, b)) = r.split_once('-')
            && let (Ok(a), Ok(b)) = (a.parse::<u64>(), b.parse::<u64>())
        {
            let (lo, hi) = (a.min(b), a.max(b));
            out.extend((lo..=hi.min(lo + 100_000)).map(|n| n.to_string()));
        }
    }
    out
}

/// Sets a top-level `"attempts"` key to 0 in place (Laravel's `resetAttempts`), keeping every
/// other byte. Payloads without the key (all database-driver payloads) come back unchanged.
pub fn reset_attempts(payload: &str) -> String {
    match top_level_value_span(payload, "attempts") {
        Some((start, end)) => format!("{}0{}", &payload[..start], &payload[end..]),
        None => payload.to_string(),
    }
}

/// The byte span of the value of top-level key `key` in a JSON object text.
fn top_level_value_span(json: &str, key: &str) -> Option<(usize, usize)> {
    let b = json.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_ws(b, i);
        match b.get(i)? {
            b'}' => return None,
            b',' => {
                i += 1;
                continue;
            }
            b'"' => {}
            _ => return None,
        }
        let key_end = skip_string(b, i)?;
        let name: String = serde_json::from_str(&json[i..key_end]).ok()?;
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let start = skip_ws(b, i + 1);
        let end = skip_value(b, start)?;
        if name == key {
            return Some((start, end));
        }
        i = end;
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// `b[i]` is `"`: the index after the closing quote.
fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

fn skip_value(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => skip_string(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = skip_string(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']') && !b[j].is_ascii_whitespace() {
                j += 1;
            }
            Some(j)
        }
    }
}

/// `queue:retry` for these uuids: each found row is pushed back onto its queue (attempts 0,
/// available now, payload as stored but for `attempts`) and deleted, in one transaction.
pub async fn retry(store: &dyn Store, uuids: &[String], now: i64) -> Result<Vec<RetryResult>, FailedError> {
    let mut requeue = Vec::new();
    let mut stale = std::collections::HashSet::new();
    for uuid in uuids {
        let Some(row) = store.failed_find(uuid).await? else { continue };
        let payload = reset_attempts(&row.payload);
        let retry_until = serde_json::from_str::<serde_json::Value>(&payload)
            .ok()
            .and_then(|v| v.get("retryUntil").and_then(serde_json::Value::as_i64));
        if retry_until.is_some_and(|t| t < now) {
            tracing::warn!(
                uuid = %uuid,
                "retryUntil has passed and cv-worker cannot re-evaluate the job's PHP retryUntil(); \
                 the job will fail again unless retried with `php artisan queue:retry`"
            );
            stale.insert(uuid.clone());
        }
        requeue.push((row.uuid, NewJob { queue: row.queue, payload, available_at: now }));
    }
    let done: std::collections::HashSet<String> = store.failed_requeue(&requeue, now).await?.into_iter().collect();
    Ok(uuids
        .iter()
        .map(|u| RetryResult { id: u.clone(), retried: done.contains(u), stale_retry_until: stale.contains(u) })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_column_like_queue_failed() {
        let p = r#"{"job":"Illuminate\\Queue\\CallQueuedHandler@call","data":{"command":"O:15:\"App\\Jobs\\NoopJob\":0:{}"}}"#;
        assert_eq!(class_name(p), "App\\Jobs\\NoopJob");
        assert_eq!(class_name(r#"{"job":"App\\Legacy@fire","data":{"x":1}}"#), "App\\Legacy@fire");
        assert_eq!(class_name("nope"), "");
    }

    #[test]
    fn attempts_reset_in_place() {
        let p = r#"{"uuid":"a","attempts":3,"data":{"attempts":9,"s":"x\"y"},"z":"\/"}"#;
        assert_eq!(reset_attempts(p), r#"{"uuid":"a","attempts":0,"data":{"attempts":9,"s":"x\"y"},"z":"\/"}"#);
        let q = r#"{"data":{"attempts":9},"uuid":"é\/"}"#;
        assert_eq!(reset_attempts(q), q);
    }

    #[test]
    fn ranges() {
        assert_eq!(expand_ranges(&["1-3".into(), "x".into(), "5-5".into()]), vec!["1", "2", "3", "5"]);
    }
}

/// `cv-worker failed …`: artisan's failed-job commands.
pub mod cli {
    use clap::{Args, Subcommand};

    use super::{FailedJobSummary, Selection};
    use crate::store::Store;

    #[derive(Debug, Args)]
    pub struct FailedArgs {
        /// Print JSON instead of a table (for scripts).
        #[arg(long, global = true)]
        pub json: bool,
        #[command(subcommand)]
        pub command: FailedCommand,
    }

    #[derive(Debug, Subcommand)]
    pub enum FailedCommand {
        /// List failed jobs, newest first (`queue:failed`).
        List,
        /// Show one failed job with its payload and exception.
        Show { uuid: String },
        /// Push failed jobs back onto their queues (`queue:retry`): uuids, or `all`.
        Retry {
            ids: Vec<String>,
            /// Retry every failed job of this queue.
            #[arg(long)]
            queue: Option<String>,
            /// Numeric ranges such as 1-5 (matched against uuids, then failed_jobs.id).
            #[arg(long, num_args = 1..)]
            range: Vec<String>,
        },
        /// Delete a failed job (`queue:forget`).
        Forget { uuid: String },
        /// Delete all failed jobs, or those that failed at least --hours ago (`queue:flush`).
        Flush {
            #[arg(long)]
            hours: Option<i64>,
        },
        /// Delete failed jobs older than --hours (`queue:prune-failed`).
        Prune {
            #[arg(long, default_value_t = 24)]
            hours: i64,
        },
    }

    /// A plain aligned table, as artisan prints.
    pub(crate) fn print_table(headers: &[&str], rows: &[Vec<String>]) {
        let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
        for row in rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: Vec<&str>| {
            let parts: Vec<String> =
                cells.iter().zip(&widths).map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count()))).collect();
            format!("| {} |", parts.join(" | "))
        };
        let rule = format!("+{}+", widths.iter().map(|w| "-".repeat(w + 2)).collect::<Vec<_>>().join("+"));
        println!("{rule}");
        println!("{}", line(headers.to_vec()));
        println!("{rule}");
        for row in rows {
            println!("{}", line(row.iter().map(String::as_str).collect()));
        }
        println!("{rule}");
    }

    pub(crate) fn print_json(v: &impl serde::Serialize) -> anyhow::Result<()> {
        println!("{}", serde_json::to_string(v)?);
        Ok(())
    }

    pub async fn run(store: &dyn Store, args: &FailedArgs, now: i64) -> anyhow::Result<()> {
        let json = args.json;
        match &args.command {
            FailedCommand::List => {
                let list = super::list(store).await?;
                if json {
                    return print_json(&list);
                }
                if list.is_empty() {
                    println!("No failed jobs!");
                    return Ok(());
                }
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|f: &FailedJobSummary| {
                        vec![f.id.clone(), f.connection.clone(), f.queue.clone(), f.class.clone(), f.failed_at.clone()]
                    })
                    .collect();
                print_table(&["ID", "Connection", "Queue", "Class", "Failed At"], &rows);
            }
            FailedCommand::Show { uuid } => {
                let Some(row) = super::show(store, uuid).await? else {
                    anyhow::bail!("No failed job matches the given ID [{uuid}].");
                };
                if json {
                    return print_json(&row);
                }
                println!("ID:         {}", row.uuid);
                println!("Connection: {}", row.connection);
                println!("Queue:      {}", row.queue);
                println!("Class:      {}", super::class_name(&row.payload));
                println!("Failed At:  {}", row.failed_at);
                println!("\nPayload:\n{}\n\nException:\n{}", row.payload, row.exception);
            }
            FailedCommand::Retry { ids, queue, range } => {
                let selection = if ids.len() == 1 && ids[0] == "all" {
                    Selection::All
                } else if let Some(q) = queue {
                    Selection::Queue(q.clone())
                } else {
                    let mut all = ids.clone();
                    all.extend(super::expand_ranges(range));
                    Selection::Ids(all)
                };
                let uuids = super::resolve(store, &selection).await?;
                if let Selection::Queue(q) = &selection
                    && uuids.is_empty()
                {
                    anyhow::bail!("Unable to find failed jobs for queue [{q}].");
                }
                let results = super::retry(store, &uuids, now).await?;
                if json {
                    return print_json(&results);
                }
                for r in &results {
                    if r.retried {
                        println!("The failed job [{}] has been pushed back onto the queue!", r.id);
                    } else {
                        eprintln!("Unable to find failed job with ID [{}].", r.id);
                    }
                }
            }
            FailedCommand::Forget { uuid } => {
                let deleted = super::forget(store, uuid).await?;
                if json {
                    print_json(&serde_json::json!({"id": uuid, "deleted": deleted}))?;
                } else if deleted {
                    println!("Failed job deleted successfully!");
                }
                if !deleted {
                    anyhow::bail!("No failed job matches the given ID.");
                }
            }
            FailedCommand::Flush { hours } => {
                let n = super::flush(store, *hours, now).await?;
                if json {
                    return print_json(&serde_json::json!({"deleted": n}));
                }
                match hours {
                    Some(h) => println!("All jobs that failed more than {h} hours ago have been deleted successfully!"),
                    None => println!("All failed jobs deleted successfully!"),
                }
            }
            FailedCommand::Prune { hours } => {
                let n = super::prune(store, *hours, now).await?;
                if json {
                    return print_json(&serde_json::json!({"deleted": n}));
                }
                println!("{n} entries deleted!");
            }
        }
        Ok(())
    }
}
