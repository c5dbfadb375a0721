//! Exporters: all of a user's CVs as one `json`, `csv` or `zip` file.
//!
//! Each exporter is fed one CV at a time ([`CvExporter::add_cv`]) and writes it straight to
//! the output, so the caller can stream rows from the database and memory stays bounded by
//! one CV, whatever the number of CVs. (The zip exporter also keeps the `index.csv` rows —
//! about a hundred bytes per CV — until [`CvExporter::finish`] writes them.)
//!
//! ```
//! use cv_jobs::export::{CvExport, CvExporter, ExportUser, JsonExporter};
//!
//! let user = ExportUser { id: 7, name: "Ada".into(), email: "ada@example.com".into() };
//! let mut out = Vec::new();
//! let mut export = JsonExporter::begin(&mut out, &user, "2026-11-27T10:00:00Z")?;
//! export.add_cv(&CvExport {
//!     id: 1,
//!     title: "Main".into(),
//!     created_at: Some("2026-01-02T03:04:05Z".into()),
//!     updated_at: None,
//!     document: serde_json::json!({"basics": {"name": "Ada"}}),
//!     versions: vec![],
//!     template: "classic".into(),
//! })?;
//! export.finish()?;
//! let parsed: serde_json::Value = serde_json::from_slice(&out)?;
//! assert_eq!(parsed["cvs"][0]["title"], "Main");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod csv;
mod json;
mod zipfile;

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use serde_json::Value;

use crate::document::DocumentError;
use crate::pdf::{RenderError, UnknownTemplate};

pub use self::csv::CsvExporter;
pub use self::json::JsonExporter;
pub use self::zipfile::ZipExporter;

/// Whose export it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportUser {
    pub id: i64,
    pub name: String,
    pub email: String,
}

/// One CV as exported: the `cvs` row and its `cv_versions`. Timestamps are ISO 8601 strings
/// (the caller formats them; this crate reads no clock).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CvExport {
    pub id: i64,
    pub title: String,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    /// The current CV document (`cvs.data`), as stored.
    pub document: Value,
    pub versions: Vec<CvVersionExport>,
    /// `cvs.template`; the zip export renders the PDF with it.
    #[serde(skip)]
    pub template: String,
}

/// A saved version of a CV (`cv_versions` row).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CvVersionExport {
    pub id: i64,
    pub reason: Option<String>,
    pub created_at: Option<String>,
    /// The snapshot (`cv_versions.snapshot_json`).
    pub document: Value,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot encode the export as JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot write the zip archive: {0}")]
    Zip(String),
    /// The zip export renders each CV; a CV whose document is invalid fails the export.
    #[error("CV {id}: {source}")]
    Document { id: i64, source: DocumentError },
    #[error("CV {id}: {source}")]
    Template { id: i64, source: UnknownTemplate },
    #[error("CV {id}: {source}")]
    Render { id: i64, source: RenderError },
}

/// A streaming export: [`add_cv`](CvExporter::add_cv) once per CV, then
/// [`finish`](CvExporter::finish).
pub trait CvExporter {
    /// What `finish` gives back (the writer).
    type Output;
    /// Writes one CV.
    fn add_cv(&mut self, cv: &CvExport) -> Result<(), ExportError>;
    /// Writes what follows the last CV and flushes; returns the writer.
    fn finish(self) -> Result<Self::Output, ExportError>;
}

/// The export formats of `App\Jobs\ExportUserCvs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportFormat {
    Json,
    Csv,
    Zip,
}

impl ExportFormat {
    pub const ALL: [ExportFormat; 3] = [ExportFormat::Json, ExportFormat::Csv, ExportFormat::Zip];

    /// `json`, `csv`, `zip` — also the file extension.
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
            ExportFormat::Zip => "zip",
        }
    }

    /// The MIME type of the file.
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Json => "application/json",
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Zip => "application/zip",
        }
    }
}

impl fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An export format name that is not `json`, `csv` or `zip`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown export format {name:?}; known formats: json, csv, zip")]
pub struct UnknownFormat {
    pub name: String,
}

impl FromStr for ExportFormat {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        ExportFormat::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownFormat { name: s.to_string() })
    }
}

/// `document.basics.<field>` as a string, if it is one.
fn basics_field<'a>(document: &'a Value, field: &str) -> &'a str {
    document.get("basics").and_then(|b| b.get(field)).and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names() {
        assert_eq!("ZIP".parse::<ExportFormat>(), Ok(ExportFormat::Zip));
        assert_eq!(
            "xml".parse::<ExportFormat>().map_err(|e| e.to_string()),
            Err("unknown export format \"xml\"; known formats: json, csv, zip".to_string())
        );
    }
}
