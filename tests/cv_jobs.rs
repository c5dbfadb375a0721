//! The CV jobs end to end on each database: Laravel dispatches `GenerateCvPdf`
//! (SerializesModels) and `ExportUserCvs`; cv-worker's built-in handlers write the files and
//! the `generated_files` rows; missing, soft-deleted and quiet-missing models behave as in
//! Laravel. PHP and poppler-utils are required (scripts/install-test-deps).

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use common::TestDb;
use cv_worker::handlers;
use cv_worker::store::{DatabaseUrl, Dialect};
use cv_worker::worker::{self, WorkReport, WorkerOptions};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

macro_rules! per_dialect {
    ($($name:ident),* $(,)?) => {
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(cv_worker::store::Dialect::Postgres).await } )* }
        mod mysql { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(cv_worker::store::Dialect::Mysql).await } )* }
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(cv_worker::store::Dialect::Sqlite).await } )* }
    };
}

per_dialect!(
    laravel_dispatched_cv_jobs_produce_files,
    missing_and_trashed_cvs_follow_laravel,
    json_commands_from_other_services
);

fn artisan(db: &TestDb, args: &[&str]) -> Value {
    let url = DatabaseUrl::from_str(&db.url).unwrap();
    let out: Output = Command::new("php")
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/laravel/artisan"))
        .args(args)
        .envs(cv_worker::bench::laravel_env(&url))
        .env("LOG_CHANNEL", "null")
        .output()
        .expect("PHP is required (scripts/install-test-deps)");
    assert!(out.status.success(), "artisan {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().rev().find(|l| l.starts_with('{')).map(|l| serde_json::from_str(l).unwrap()).unwrap_or(Value::Null)
}

async fn laravel_db(d: Dialect) -> TestDb {
    let db = TestDb::empty(d).await;
    artisan(&db, &["migrate", "--force"]);
    db.store.migrate().await.expect("cv-worker migrate");
    db
}

async fn work(db: &TestDb, storage: &Path, queues: &[&str]) -> WorkReport {
    let mut registry = handlers::builtin(db.store.clone(), storage.to_path_buf());
    // The harness declares deleteWhenMissingModels on a separate class.
    assert!(registry.alias("App\\Jobs\\GenerateCvPdfQuiet", handlers::cv::GENERATE_CV_PDF));
    let registry = Arc::new(registry);
    let options = WorkerOptions {
        queues: queues.iter().map(|q| q.to_string()).collect(),
        concurrency: 4,
        sleep: Duration::from_millis(50),
        stop_when_empty: true,
        ..WorkerOptions::default()
    };
    tokio::time::timeout(
        Duration::from_secs(120),
        worker::run(db.store.clone(), registry, options, CancellationToken::new()),
    )
    .await
    .expect("worker finished in time")
    .expect("worker ran")
}

fn pdftotext(path: &Path) -> String {
    let out = Command::new("pdftotext").arg(path).arg("-").output().expect("poppler-utils (pdftotext) is required");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

async fn laravel_dispatched_cv_jobs_produce_files(d: Dialect) {
    let db = laravel_db(d).await;
    let storage = tempfile::tempdir().unwrap();
    let seeded = artisan(&db, &["interop:seed-cv", "--versions=1"]);
    let (cv_id, user_id, version_id) = (
        seeded["cv_id"].as_i64().unwrap(),
        seeded["user_id"].as_i64().unwrap(),
        seeded["version_ids"][0].as_i64().unwrap(),
    );
    let cv = cv_id.to_string();
    let current =
        artisan(&db, &["interop:dispatch", "generate-cv", "--cv", &cv, "--template", "modern", "--queue", "pdf"]);
    let version = artisan(
        &db,
        &["interop:dispatch", "generate-cv", "--cv", &cv, "--cv-version", &version_id.to_string(), "--queue", "pdf"],
    );
    let user = user_id.to_string();
    let zip = artisan(&db, &["interop:dispatch", "export", "--user", &user, "--format", "zip", "--queue", "exports"]);
    let csv = artisan(&db, &["interop:dispatch", "export", "--user", &user, "--format", "csv", "--queue", "exports"]);

    let report = work(&db, storage.path(), &["pdf", "exports"]).await;
    assert_eq!(
        (report.processed, report.failed),
        (4, 0),
        "{:?}",
        db.query_strings("SELECT exception FROM failed_jobs").await
    );

    let pdf_row =
        db.store.generated_file(current["uuids"][0].as_str().unwrap()).await.unwrap().expect("generated_files row");
    assert_eq!(pdf_row.kind, "cv_pdf");
    assert_eq!(pdf_row.path, format!("cvs/{cv_id}/cv-{cv_id}-current-modern.pdf"));
    assert_eq!((pdf_row.cv_id, pdf_row.user_id, pdf_row.cv_version_id), (Some(cv_id), Some(user_id), None));
    let pdf_path = storage.path().join(&pdf_row.path);
    let bytes = std::fs::read(&pdf_path).unwrap();
    assert_eq!(bytes.len() as i64, pdf_row.bytes);
    assert_eq!(pdf_row.sha256.len(), 64);
    assert!(pdf_row.pages.unwrap() >= 1);
    let text = pdftotext(&pdf_path);
    assert!(text.contains("Łukasiewicz-Ødegård"), "{text}");

    let version_row = db.store.generated_file(version["uuids"][0].as_str().unwrap()).await.unwrap().unwrap();
    assert_eq!(version_row.path, format!("cvs/{cv_id}/cv-{cv_id}-{version_id}-classic.pdf"));
    assert_eq!(version_row.cv_version_id, Some(version_id));

    let zip_row = db.store.generated_file(zip["uuids"][0].as_str().unwrap()).await.unwrap().unwrap();
    assert_eq!(zip_row.kind, "export_zip");
    assert_eq!(zip_row.path, format!("exports/{user_id}/export-{}.zip", zip["uuids"][0].as_str().unwrap()));
    let mut archive = zip_reader(&storage.path().join(&zip_row.path));
    assert!(archive.contains(&"index.csv".to_string()) && archive.contains(&format!("cv-{cv_id}.pdf")), "{archive:?}");
    archive.clear();

    let csv_row = db.store.generated_file(csv["uuids"][0].as_str().unwrap()).await.unwrap().unwrap();
    let mut csv_text = String::new();
    std::fs::File::open(storage.path().join(&csv_row.path)).unwrap().read_to_string(&mut csv_text).unwrap();
    assert!(csv_text.lines().next().unwrap().starts_with("id,title"), "{csv_text}");
    assert_eq!(csv_text.lines().count(), 2, "{csv_text}");

    // At-least-once: the same job run again overwrites the same file and row.
    let again = db.count("generated_files").await;
    assert_eq!(again, 4);
}

/// The names of a zip's entries, from its central directory (enough to check the layout).
fn zip_reader(path: &Path) -> Vec<String> {
    let out = Command::new("python3")
        .args(["-c", "import sys, zipfile; print('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))"])
        .arg(path)
        .output()
        .expect("python3 reads the zip");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect()
}

async fn missing_and_trashed_cvs_follow_laravel(d: Dialect) {
    let db = laravel_db(d).await;
    let storage = tempfile::tempdir().unwrap();
    let trashed = artisan(&db, &["interop:seed-cv", "--trashed"]);
    let trashed_id = trashed["cv_id"].as_i64().unwrap().to_string();
    artisan(&db, &["interop:dispatch", "generate-cv", "--cv", &trashed_id]);
    artisan(&db, &["interop:dispatch", "generate-cv", "--cv", "424242"]);
    artisan(&db, &["interop:dispatch", "generate-cv-quiet", "--cv", "434343"]);
    let report = work(&db, storage.path(), &["default"]).await;
    assert_eq!((report.processed, report.failed), (1, 2), "the quiet job is deleted as a success");
    let exceptions = db.query_strings("SELECT exception FROM failed_jobs ORDER BY id").await;
    assert!(
        exceptions.iter().any(|e| e.starts_with(&format!(
            "Illuminate\\Database\\Eloquent\\ModelNotFoundException: CV {trashed_id} not found"
        ))),
        "{exceptions:?}"
    );
    assert!(exceptions.iter().any(|e| e.contains("CV 424242 not found")), "{exceptions:?}");
    assert_eq!(db.count("generated_files").await, 0);
}

/// A service that is not PHP sends a JSON-object command with `cvId`; bad input fails with a
/// message that names the problem.
async fn json_commands_from_other_services(d: Dialect) {
    let db = laravel_db(d).await;
    let storage = tempfile::tempdir().unwrap();
    let seeded = artisan(&db, &["interop:seed-cv"]);
    let cv_id = seeded["cv_id"].as_i64().unwrap();
    let now = cv_worker::worker::unix_now();
    let payload = |command: Value| {
        serde_json::json!({"uuid": uuid::Uuid::new_v4().to_string(), "displayName": "App\\Jobs\\GenerateCvPdf",
            "job": "Illuminate\\Queue\\CallQueuedHandler@call", "maxTries": 1,
            "data": {"commandName": "App\\Jobs\\GenerateCvPdf", "command": command}})
        .to_string()
    };
    let jobs = vec![
        cv_worker::store::NewJob {
            queue: "pdf".into(),
            payload: payload(serde_json::json!({"cvId": cv_id, "template": "classic"})),
            available_at: now,
        },
        cv_worker::store::NewJob {
            queue: "pdf".into(),
            payload: payload(serde_json::json!({"cvId": cv_id, "template": "fancy"})),
            available_at: now,
        },
        cv_worker::store::NewJob {
            queue: "pdf".into(),
            payload: payload(serde_json::json!({"template": "classic"})),
            available_at: now,
        },
    ];
    db.store.push(&jobs, now).await.unwrap();
    let report = work(&db, storage.path(), &["pdf"]).await;
    assert_eq!((report.processed, report.failed), (1, 2));
    let exceptions = db.query_strings("SELECT exception FROM failed_jobs ORDER BY id").await;
    assert!(
        exceptions.iter().any(|e| e.contains("unknown template \"fancy\"; known templates: classic, modern")),
        "{exceptions:?}"
    );
    assert!(
        exceptions.iter().any(|e| e.contains("GenerateCvPdf needs a `cv` model or an integer `cvId`")),
        "{exceptions:?}"
    );
    assert!(storage.path().join(format!("cvs/{cv_id}/cv-{cv_id}-current-classic.pdf")).exists());
}
