//! `cv-worker demo`: the first thing to run. Seeds a user with three sample CVs, dispatches
//! the CV jobs (plus one that must fail), works them, and prints what happened.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::enqueue::{self, Dispatch};
use crate::handlers::{self, cv};
use crate::store::Store;
use crate::store::cv_tables::NewCv;
use crate::worker::{self, WorkerOptions, unix_now};

const SAMPLES: [(&str, &str, &str); 3] = [
    ("Backend engineer (two pages)", "modern", include_str!("../jobs/samples/two-page.json")),
    ("Zoë Łukasiewicz-Ødegård (Latin, Greek, Cyrillic)", "classic", include_str!("../jobs/samples/unicode.json")),
    ("Forty entries", "classic", include_str!("../jobs/samples/forty-entries.json")),
];

fn dispatch(class: &str, queue: &str, properties: Value) -> Dispatch {
    let properties = match properties {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    Dispatch { class: class.into(), properties, queue: queue.into(), max_tries: Some(3), ..Dispatch::default() }
}

pub async fn run(store: Arc<dyn Store>, storage_root: &Path, database: &str) -> anyhow::Result<()> {
    store.migrate().await.context("migrating")?;
    let now = unix_now();
    let user_id = store.ensure_user("Demo User", "demo@example.com", now).await.context("seeding the demo user")?;
    let mut jobs = Vec::new();
    let mut labels = Vec::new();
    for (title, template, json) in SAMPLES {
        let cv_id = store
            .insert_cv(&NewCv { user_id, title: title.into(), data: json.into(), template: template.into() }, now)
            .await
            .context("seeding a CV")?;
        for t in ["classic", "modern"] {
            jobs.push(dispatch(cv::GENERATE_CV_PDF, "pdf", serde_json::json!({"cvId": cv_id, "template": t})));
            labels.push(format!("GenerateCvPdf  CV {cv_id} ({title}), {t}"));
        }
    }
    for format in ["json", "csv", "zip"] {
        jobs.push(dispatch(cv::EXPORT_USER_CVS, "exports", serde_json::json!({"userId": user_id, "format": format})));
        labels.push(format!("ExportUserCvs  user {user_id}, {format}"));
    }
    jobs.push(dispatch(cv::GENERATE_CV_PDF, "pdf", serde_json::json!({"cvId": 999_999_999})));
    labels.push("GenerateCvPdf  CV 999999999 (does not exist: must fail)".into());

    let rows: Vec<_> = jobs.iter().map(|d| enqueue::new_job(d, now)).collect();
    let uuids: Vec<String> = rows.iter().map(|(_, u)| u.clone()).collect();
    let new_jobs: Vec<_> = rows.into_iter().map(|(j, _)| j).collect();
    store.push(&new_jobs, now).await.context("dispatching the demo jobs")?;
    println!("cv-worker demo on {database}");
    println!("dispatched {} jobs on queues pdf, exports; working them…\n", uuids.len());

    let registry = Arc::new(handlers::builtin(store.clone(), storage_root.to_path_buf()));
    let options = WorkerOptions {
        queues: vec!["pdf".into(), "exports".into()],
        concurrency: 4,
        sleep: Duration::from_millis(100),
        stop_when_empty: true,
        ..WorkerOptions::default()
    };
    let started = Instant::now();
    let report = worker::run(store.clone(), registry, options, CancellationToken::new()).await?;
    let elapsed = started.elapsed();

    for (label, uuid) in labels.iter().zip(&uuids) {
        match store.generated_file(uuid).await? {
            Some(f) => {
                let pages = f.pages.map(|p| format!(", {p} page{}", if p == 1 { "" } else { "s" })).unwrap_or_default();
                println!(
                    "  ok      {label}\n          → {} ({} bytes{pages})",
                    storage_root.join(&f.path).display(),
                    f.bytes
                );
            }
            None => println!("  FAILED  {label}\n          → recorded in failed_jobs (uuid {uuid})"),
        }
    }
    println!(
        "\n{} processed, {} failed, {} released in {:.0} ms",
        report.processed,
        report.failed,
        report.released,
        elapsed.as_secs_f64() * 1000.0
    );
    println!("PDFs and exports are under {}", storage_root.display());
    Ok(())
}
