//! The `csv` export: RFC 4180 (comma separated, CRLF line ends, fields quoted when they hold
//! a comma, quote or line break), UTF-8, one header row, one row per CV:
//! `id,title,name,email,label,version_count,created_at,updated_at`.
//!
//! Cells are made safe to open in a spreadsheet: a cell that starts with `=`, `+`, `-`, `@`,
//! a tab or a carriage return would be read as a formula (CSV injection), so it gets a leading
//! `'`, which spreadsheets show as text.

use std::io::{BufWriter, Write};

use super::{CvExport, CvExporter, ExportError, basics_field};

pub(crate) const HEADER: [&str; 8] =
    ["id", "title", "name", "email", "label", "version_count", "created_at", "updated_at"];

/// Writes one CSV file; each CV is a row written as it is added.
pub struct CsvExporter<W: Write> {
    out: BufWriter<W>,
}

impl<W: Write> CsvExporter<W> {
    /// Writes the header row.
    pub fn begin(writer: W) -> Result<Self, ExportError> {
        let mut out = BufWriter::with_capacity(64 * 1024, writer);
        write_row(&mut out, HEADER)?;
        Ok(CsvExporter { out })
    }
}

impl<W: Write> CvExporter for CsvExporter<W> {
    type Output = W;

    fn add_cv(&mut self, cv: &CvExport) -> Result<(), ExportError> {
        write_cv_row(&mut self.out, cv)?;
        Ok(())
    }

    fn finish(self) -> Result<W, ExportError> {
        self.out.into_inner().map_err(|e| ExportError::Io(e.into_error()))
    }
}

/// Writes `cv`'s row (also used for the zip export's `index.csv`).
pub(crate) fn write_cv_row(out: &mut impl Write, cv: &CvExport) -> std::io::Result<()> {
    let id = cv.id.to_string();
    let versions = cv.versions.len().to_string();
    write_row(
        out,
        [
            id.as_str(),
            &cv.title,
            basics_field(&cv.document, "name"),
            basics_field(&cv.document, "email"),
            basics_field(&cv.document, "label"),
            versions.as_str(),
            cv.created_at.as_deref().unwrap_or(""),
            cv.updated_at.as_deref().unwrap_or(""),
        ],
    )
}

pub(crate) fn write_row<'a>(out: &mut impl Write, cells: impl IntoIterator<Item = &'a str>) -> std::io::Result<()> {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write_cell(out, cell)?;
    }
    out.write_all(b"\r\n")
}

/// One field: formula-escaped, then quoted if RFC 4180 requires it.
fn write_cell(out: &mut impl Write, cell: &str) -> std::io::Result<()> {
    let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = cell.contains([',', '"', '\r', '\n']);
    if quote {
        out.write_all(b"\"")?;
    }
    if formula {
        out.write_all(b"'")?;
    }
    if quote {
        out.write_all(cell.replace('"', "\"\"").as_bytes())?;
        out.write_all(b"\"")
    } else {
        out.write_all(cell.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cell(s: &str) -> String {
        let mut v = Vec::new();
        let _ = write_cell(&mut v, s);
        String::from_utf8_lossy(&v).into_owned()
    }

    #[test]
    fn formula_cells_are_escaped() {
        assert_eq!(cell("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
        assert_eq!(cell("=1+1"), "'=1+1");
        assert_eq!(cell("+31 6 1234"), "'+31 6 1234");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tcmd"), "'\tcmd");
        assert_eq!(cell("a=b"), "a=b");
    }

    #[test]
    fn rfc4180_quoting() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell("Zoë Łukasiewicz"), "Zoë Łukasiewicz");
    }

    #[test]
    fn rows() -> Result<(), Box<dyn std::error::Error>> {
        let mut export = CsvExporter::begin(Vec::new())?;
        export.add_cv(&CvExport {
            id: 42,
            title: "=cmd|' /C calc'!A0".into(),
            created_at: Some("2026-01-01T00:00:00Z".into()),
            updated_at: None,
            document: json!({"basics": {"name": "Zoë", "email": "z@x.io", "label": "Dev, Ops"}}),
            versions: vec![],
            template: "classic".into(),
        })?;
        let text = String::from_utf8(export.finish()?)?;
        assert_eq!(
            text,
            "id,title,name,email,label,version_count,created_at,updated_at\r\n\
             42,'=cmd|' /C calc'!A0,Zoë,z@x.io,\"Dev, Ops\",0,2026-01-01T00:00:00Z,\r\n"
        );
        Ok(())
    }
}
