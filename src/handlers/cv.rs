//! The CV Builder's jobs (`../shared/spec/cv-jobs.md`): thin adapters from a queue job to
//! the `cv-jobs` crate.
//!
//! * `App\Jobs\GenerateCvPdf` — `cv` (a SerializesModels `ModelIdentifier`) or `cvId`,
//!   `versionId`, `template` → `cvs/{cv}/cv-{cv}-{version|current}-{template}.pdf`.
//! * `App\Jobs\ExportUserCvs` — `userId`, `format` → `exports/{user}/export-{uuid}.{format}`,
//!   streamed page by page so memory is bounded by one CV.
//!
//! Files are written atomically (a temporary file in the same directory, then a rename) and
//! recorded in `generated_files` by job uuid, so a job that runs twice overwrites the same
//! file and row. A missing or soft-deleted CV or user fails the job, or deletes it quietly
//! when the job class sets `deleteWhenMissingModels`, as Laravel does.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use cv_jobs::document::CvDocument;
use cv_jobs::export::{
    CsvExporter, CvExport, CvExporter, CvVersionExport, ExportFormat, ExportUser, JsonExporter, ZipExporter,
};
use cv_jobs::pdf::{self, Template};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Handler, HandlerOutcome, JobContext, Registry};
use crate::protocol::exception::JobError;
use crate::store::Store;
use crate::store::cv_tables::{CvRow, GeneratedFile};
use crate::worker::unix_now;

pub const GENERATE_CV_PDF: &str = "App\\Jobs\\GenerateCvPdf";
pub const EXPORT_USER_CVS: &str = "App\\Jobs\\ExportUserCvs";

/// Laravel's exception for a missing model.
const MODEL_NOT_FOUND: &str = "Illuminate\\Database\\Eloquent\\ModelNotFoundException";
/// A CV document that is not a valid JSON Resume.
const INVALID_DOCUMENT: &str = "CvWorker\\Exceptions\\InvalidCvDocumentException";
const INVALID_ARGUMENT: &str = "InvalidArgumentException";

/// CVs fetched per round trip by an export.
const EXPORT_PAGE: i64 = 50;

/// Registers both CV jobs, writing under `storage_root`.
pub fn register(registry: &mut Registry, store: Arc<dyn Store>, storage_root: PathBuf) {
    let shared = Arc::new(CvJobs { store, storage_root });
    registry.register(GENERATE_CV_PDF, GenerateCvPdf(shared.clone()));
    registry.register(EXPORT_USER_CVS, ExportUserCvs(shared));
}

struct CvJobs {
    store: Arc<dyn Store>,
    storage_root: PathBuf,
}

struct GenerateCvPdf(Arc<CvJobs>);
struct ExportUserCvs(Arc<CvJobs>);

/// Missing model: fail, or delete quietly when the job says `deleteWhenMissingModels`
/// (the payload key of Laravel 13, or the serialized property of earlier versions).
#[track_caller]
fn missing(job: &JobContext, message: String) -> Result<HandlerOutcome, JobError> {
    let quiet = job.payload.delete_when_missing_models
        || job.command.get("deleteWhenMissingModels").and_then(|v| v.as_bool()).unwrap_or(false);
    if quiet {
        tracing::info!(reason = %message, "model missing; deleteWhenMissingModels: deleting the job");
        Ok(HandlerOutcome::DeleteQuietly)
    } else {
        Ok(HandlerOutcome::Fail(JobError::new(MODEL_NOT_FOUND, message)))
    }
}

/// The document of a CV (or of one of its versions), with `meta.lastModified` taken from
/// `cvs.updated_at` when the document has none (the PDF's dates come from it, not the clock).
fn document_value(text: &str, fallback_modified: Option<&str>) -> Result<Value, JobError> {
    let mut value: Value = serde_json::from_str(text)
        .map_err(|e| JobError::new(INVALID_DOCUMENT, format!("the CV document is not valid JSON: {e}")))?;
    if let (Some(modified), Value::Object(map)) = (fallback_modified, &mut value) {
        let meta = map.entry("meta").or_insert_with(|| Value::Object(Default::default()));
        if let Value::Object(meta) = meta {
            meta.entry("lastModified").or_insert_with(|| Value::String(modified.to_string()));
        }
    }
    Ok(value)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Size and SHA-256 of a file, read in blocks (an export can be large).
fn sha256_file(path: &Path) -> std::io::Result<(u64, String)> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((total, hex(&hasher.finalize())))
}

/// Writes `bytes` to `root/relative` atomically.
fn write_atomically(root: &Path, relative: &str, bytes: &[u8]) -> std::io::Result<()> {
    let path = root.join(relative);
    let dir = path.parent().unwrap_or(root);
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_data()?;
    tmp.persist(&path).map_err(|e| e.error)?;
    Ok(())
}

fn io_error(what: &str, e: impl std::fmt::Display) -> JobError {
    JobError::runtime(format!("{what}: {e}"))
}

#[async_trait]
impl Handler for GenerateCvPdf {
    async fn handle(&self, job: JobContext) -> Result<HandlerOutcome, JobError> {
        let jobs = &self.0;
        let cv_id = match job.command.model("cv").and_then(|m| m.id.as_i64()).or_else(|| job.command.get_i64("cvId")) {
            Some(id) => id,
            None => {
                return Ok(HandlerOutcome::Fail(JobError::new(
                    INVALID_ARGUMENT,
                    "GenerateCvPdf needs a `cv` model or an integer `cvId`",
                )));
            }
        };
        let version_id = job.command.get_i64("versionId");
        let Some(cv) = jobs.store.cv(cv_id).await.map_err(|e| io_error("reading cvs", e))? else {
            return missing(&job, format!("CV {cv_id} not found"));
        };
        let template_name = job.command.get_str("template").unwrap_or(&cv.template).to_string();
        let template: Template = match template_name.parse() {
            Ok(t) => t,
            Err(e) => return Ok(HandlerOutcome::Fail(JobError::new(INVALID_ARGUMENT, e.to_string()))),
        };
        let text = match version_id {
            None => cv.data.clone(),
            Some(v) => match jobs.store.cv_version(cv_id, v).await.map_err(|e| io_error("reading cv_versions", e))? {
                Some(version) => version.snapshot_json,
                None => return missing(&job, format!("version {v} of CV {cv_id} not found")),
            },
        };
        let value = match document_value(&text, cv.updated_at.as_deref()) {
            Ok(v) => v,
            Err(e) => return Ok(HandlerOutcome::Fail(e)),
        };
        let document = match CvDocument::from_json(&value) {
            Ok(d) => d,
            Err(e) => return Ok(HandlerOutcome::Fail(JobError::new(INVALID_DOCUMENT, format!("CV {cv_id}: {e}")))),
        };
        let relative = format!(
            "cvs/{cv_id}/cv-{cv_id}-{}-{}.pdf",
            version_id.map(|v| v.to_string()).unwrap_or_else(|| "current".into()),
            template.name()
        );
        let root = jobs.storage_root.clone();
        let path = relative.clone();
        // Rendering is CPU work: keep it off the async threads.
        let (bytes, pages, sha) = tokio::task::spawn_blocking(move || -> Result<(i64, u32, String), JobError> {
            let rendered = pdf::render(&document, template).map_err(|e| io_error("rendering the PDF", e))?;
            write_atomically(&root, &path, &rendered.bytes).map_err(|e| io_error(&format!("writing {path}"), e))?;
            Ok((rendered.bytes.len() as i64, rendered.pages, sha256_hex(&rendered.bytes)))
        })
        .await
        .map_err(|e| io_error("the render task", e))??;
        let file = GeneratedFile {
            job_uuid: job.uuid.clone(),
            user_id: cv.user_id,
            cv_id: Some(cv_id),
            cv_version_id: version_id,
            kind: "cv_pdf".into(),
            path: relative,
            bytes,
            sha256: sha,
            pages: Some(pages as i32),
        };
        jobs.store
            .upsert_generated_file(&file, unix_now())
            .await
            .map_err(|e| io_error("recording generated_files", e))?;
        tracing::info!(cv_id, pages, bytes, path = %file.path, "CV rendered");
        Ok(HandlerOutcome::Done)
    }
}

fn cv_export(cv: &CvRow, versions: Vec<CvVersionExport>) -> CvExport {
    CvExport {
        id: cv.id,
        title: cv.title.clone(),
        created_at: cv.created_at.clone(),
        updated_at: cv.updated_at.clone(),
        document: document_value(&cv.data, cv.updated_at.as_deref()).unwrap_or(Value::Null),
        versions,
        template: cv.template.clone(),
    }
}

#[async_trait]
impl Handler for ExportUserCvs {
    async fn handle(&self, job: JobContext) -> Result<HandlerOutcome, JobError> {
        let jobs = self.0.clone();
        let Some(user_id) = job.command.get_i64("userId") else {
            return Ok(HandlerOutcome::Fail(JobError::new(
                INVALID_ARGUMENT,
                "ExportUserCvs needs an integer `userId`",
            )));
        };
        let format: ExportFormat = match job.command.get_str("format").unwrap_or("json").parse() {
            Ok(f) => f,
            Err(e) => return Ok(HandlerOutcome::Fail(JobError::new(INVALID_ARGUMENT, e.to_string()))),
        };
        let Some(user) = jobs.store.user(user_id).await.map_err(|e| io_error("reading users", e))? else {
            return missing(&job, format!("user {user_id} not found"));
        };
        let relative = format!("exports/{user_id}/export-{}.{}", job.uuid, format.name());
        let exported_at = chrono::DateTime::from_timestamp(unix_now(), 0)
            .unwrap_or_default()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let export_user = ExportUser { id: user.id, name: user.name.clone(), email: user.email.clone() };
        let runtime = tokio::runtime::Handle::current();
        let path = relative.clone();
        let store = jobs.store.clone();
        let root = jobs.storage_root.clone();
        // The export runs on a blocking thread: it writes the file as it goes and reads the
        // next page of CVs from the database through the runtime handle.
        let (bytes, sha) = tokio::task::spawn_blocking(move || -> Result<(i64, String), JobError> {
            let target = root.join(&path);
            let dir = target.parent().unwrap_or(&root).to_path_buf();
            std::fs::create_dir_all(&dir).map_err(|e| io_error("creating the export directory", e))?;
            let tmp = tempfile::NamedTempFile::new_in(&dir).map_err(|e| io_error("creating the export file", e))?;
            let file = tmp.reopen().map_err(|e| io_error("opening the export file", e))?;
            let pages = |exporter: &mut dyn FnMut(&CvExport) -> Result<(), JobError>| -> Result<(), JobError> {
                let mut after = 0;
                loop {
                    let cvs = runtime
                        .block_on(store.user_cvs_page(user_id, after, EXPORT_PAGE))
                        .map_err(|e| io_error("reading cvs", e))?;
                    let Some(last) = cvs.last() else { return Ok(()) };
                    after = last.id;
                    let ids: Vec<i64> = cvs.iter().map(|c| c.id).collect();
                    let mut versions =
                        runtime.block_on(store.versions_of(&ids)).map_err(|e| io_error("reading cv_versions", e))?;
                    for cv in &cvs {
                        let mine: Vec<CvVersionExport> = versions
                            .extract_if(.., |v| v.cv_id == cv.id)
                            .map(|v| CvVersionExport {
                                id: v.id,
                                reason: v.reason,
                                created_at: v.created_at,
                                document: serde_json::from_str(&v.snapshot_json).unwrap_or(Value::Null),
                            })
                            .collect();
                        exporter(&cv_export(cv, mine))?;
                    }
                }
            };
            let export_error = |e: cv_jobs::export::ExportError| JobError::new(INVALID_DOCUMENT, e.to_string());
            let writer = std::io::BufWriter::new(file);
            match format {
                ExportFormat::Json => {
                    let mut ex = JsonExporter::begin(writer, &export_user, &exported_at).map_err(export_error)?;
                    pages(&mut |cv| ex.add_cv(cv).map_err(export_error))?;
                    ex.finish().map_err(export_error)?.flush().map_err(|e| io_error("writing the export", e))?;
                }
                ExportFormat::Csv => {
                    let mut ex = CsvExporter::begin(writer).map_err(export_error)?;
                    pages(&mut |cv| ex.add_cv(cv).map_err(export_error))?;
                    ex.finish().map_err(export_error)?.flush().map_err(|e| io_error("writing the export", e))?;
                }
                ExportFormat::Zip => {
                    let file = writer.into_inner().map_err(|e| io_error("writing the export", e))?;
                    let mut ex = ZipExporter::begin(file, &exported_at).map_err(export_error)?;
                    pages(&mut |cv| ex.add_cv(cv).map_err(export_error))?;
                    ex.finish().map_err(export_error)?.flush().map_err(|e| io_error("writing the export", e))?;
                }
            }
            let (bytes, sha) = sha256_file(tmp.path()).map_err(|e| io_error("hashing the export", e))?;
            tmp.as_file().sync_data().map_err(|e| io_error("syncing the export", e))?;
            tmp.persist(&target).map_err(|e| io_error(&format!("writing {path}"), e.error))?;
            Ok((bytes as i64, sha))
        })
        .await
        .map_err(|e| io_error("the export task", e))??;
        let file = GeneratedFile {
            job_uuid: job.uuid.clone(),
            user_id: Some(user_id),
            cv_id: None,
            cv_version_id: None,
            kind: format!("export_{}", format.name()),
            path: relative,
            bytes,
            sha256: sha,
            pages: None,
        };
        jobs.store
            .upsert_generated_file(&file, unix_now())
            .await
            .map_err(|e| io_error("recording generated_files", e))?;
        tracing::info!(user_id, bytes, path = %file.path, "export written");
        Ok(HandlerOutcome::Done)
    }
}
