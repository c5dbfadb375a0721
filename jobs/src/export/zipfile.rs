//! The `zip` export: per CV `cv-{id}.json` (its document, pretty-printed) and `cv-{id}.pdf`
//! (rendered with its template), then `index.csv` (the `csv` export's rows).
//!
//! Entries are written to the archive as each CV is added; only the index rows are held
//! until the end. Entry timestamps are the export time, so the same export gives the same
//! bytes.

use std::io::{Seek, Write};
use std::str::FromStr;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::csv::{HEADER, write_cv_row, write_row};
use super::{CvExport, CvExporter, ExportError};
use crate::document::{CvDocument, PartialDate};
use crate::pdf::{self, Template};

/// Writes a zip archive, one CV at a time.
pub struct ZipExporter<W: Write + Seek> {
    zip: ZipWriter<W>,
    index: Vec<u8>,
    modified: DateTime,
}

fn zip_err(e: zip::result::ZipError) -> ExportError {
    match e {
        zip::result::ZipError::Io(io) => ExportError::Io(io),
        other => ExportError::Zip(other.to_string()),
    }
}

/// The DOS timestamp of an ISO 8601 date-time (1980-01-01 when it cannot be read).
fn dos_time(iso: &str) -> DateTime {
    let Some(date) = PartialDate::parse(iso) else {
        return DateTime::default();
    };
    let num = |r: std::ops::Range<usize>| iso.get(r).and_then(|s| s.parse::<u8>().ok());
    let (h, m, s) = if iso.len() >= 19 { (num(11..13), num(14..16), num(17..19)) } else { (Some(0), Some(0), Some(0)) };
    DateTime::from_date_and_time(
        date.year,
        date.month.unwrap_or(1),
        date.day.unwrap_or(1),
        h.unwrap_or(0),
        m.unwrap_or(0),
        s.unwrap_or(0),
    )
    .unwrap_or_default()
}

impl<W: Write + Seek> ZipExporter<W> {
    /// Starts an archive. `exported_at` (ISO 8601) becomes the entries' modification time.
    pub fn begin(writer: W, exported_at: &str) -> Result<Self, ExportError> {
        let mut index = Vec::with_capacity(4096);
        write_row(&mut index, HEADER)?;
        Ok(ZipExporter { zip: ZipWriter::new(writer), index, modified: dos_time(exported_at) })
    }

    fn options(&self, method: CompressionMethod) -> SimpleFileOptions {
        SimpleFileOptions::default()
            .compression_method(method)
            .last_modified_time(self.modified)
            .unix_permissions(0o644)
    }
}

impl<W: Write + Seek> CvExporter for ZipExporter<W> {
    type Output = W;

    fn add_cv(&mut self, cv: &CvExport) -> Result<(), ExportError> {
        let id = cv.id;
        let doc = CvDocument::from_json(&cv.document).map_err(|source| ExportError::Document { id, source })?;
        let template = Template::from_str(&cv.template).map_err(|source| ExportError::Template { id, source })?;
        let rendered = pdf::render(&doc, template).map_err(|source| ExportError::Render { id, source })?;

        let json_options = self.options(CompressionMethod::Deflated);
        self.zip.start_file(format!("cv-{id}.json"), json_options).map_err(zip_err)?;
        serde_json::to_writer_pretty(&mut self.zip, &cv.document)?;
        self.zip.write_all(b"\n")?;

        // PDF streams are already compressed.
        let pdf_options = self.options(CompressionMethod::Stored);
        self.zip.start_file(format!("cv-{id}.pdf"), pdf_options).map_err(zip_err)?;
        self.zip.write_all(&rendered.bytes)?;

        write_cv_row(&mut self.index, cv)?;
        Ok(())
    }

    fn finish(mut self) -> Result<W, ExportError> {
        let options = self.options(CompressionMethod::Deflated);
        self.zip.start_file("index.csv", options).map_err(zip_err)?;
        self.zip.write_all(&self.index)?;
        self.zip.finish().map_err(zip_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::io::{Cursor, Read};

    fn cv(id: i64, template: &str, document: serde_json::Value) -> CvExport {
        CvExport {
            id,
            title: format!("CV {id}"),
            created_at: None,
            updated_at: None,
            document,
            versions: vec![],
            template: template.into(),
        }
    }

    #[test]
    fn archive_has_index_json_and_pdf() -> Result<(), Box<dyn std::error::Error>> {
        let mut export = ZipExporter::begin(Cursor::new(Vec::new()), "2026-11-27T10:30:00Z")?;
        export.add_cv(&cv(1, "classic", json!({"basics": {"name": "Ada"}})))?;
        export.add_cv(&cv(2, "modern", json!({"basics": {"name": "Zoë"}})))?;
        let bytes = export.finish()?.into_inner();

        let mut archive = zip::ZipArchive::new(Cursor::new(bytes))?;
        let names: Vec<String> = archive.file_names().map(|n| n.map(|n| n.into_owned())).collect::<Result<_, _>>()?;
        for name in ["index.csv", "cv-1.json", "cv-1.pdf", "cv-2.json", "cv-2.pdf"] {
            assert!(names.iter().any(|n| n == name), "{name} missing from {names:?}");
        }
        let mut index = String::new();
        archive.by_name("index.csv")?.read_to_string(&mut index)?;
        assert_eq!(index.lines().count(), 3);
        assert!(index.contains("2,CV 2,Zoë,"), "{index}");
        let mut pdf = Vec::new();
        archive.by_name("cv-2.pdf")?.read_to_end(&mut pdf)?;
        assert!(pdf.starts_with(b"%PDF-"));
        let mut doc = String::new();
        archive.by_name("cv-1.json")?.read_to_string(&mut doc)?;
        assert_eq!(serde_json::from_str::<serde_json::Value>(&doc)?, json!({"basics": {"name": "Ada"}}));
        let when = archive.by_name("cv-1.pdf")?.last_modified().map(|d| d.to_string());
        assert_eq!(when.as_deref(), Some("2026-11-27 10:30:00"));
        Ok(())
    }

    #[test]
    fn invalid_document_or_template_names_the_cv() -> Result<(), Box<dyn std::error::Error>> {
        let mut export = ZipExporter::begin(Cursor::new(Vec::new()), "2026-11-27T10:30:00Z")?;
        let err = export.add_cv(&cv(9, "classic", json!({"work": [{"startDate": 2020}]}))).expect_err("invalid");
        assert_eq!(err.to_string(), "CV 9: invalid CV document: work[0].startDate: expected a string, found a number");
        let err = export.add_cv(&cv(10, "fancy", json!({}))).expect_err("unknown");
        assert!(err.to_string().starts_with("CV 10: unknown template \"fancy\""), "{err}");
        Ok(())
    }
}
