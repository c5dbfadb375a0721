//! The `json` export: `{"user": {id, name, email}, "exportedAt": …, "cvs": [ … ]}`, written
//! CV by CV.

use std::io::{BufWriter, Write};

use super::{CvExport, CvExporter, ExportError, ExportUser};

/// Writes one UTF-8 JSON document; each CV is serialised as it is added.
pub struct JsonExporter<W: Write> {
    out: BufWriter<W>,
    first: bool,
}

impl<W: Write> JsonExporter<W> {
    /// Writes the head of the document. `exported_at` is an ISO 8601 timestamp.
    pub fn begin(writer: W, user: &ExportUser, exported_at: &str) -> Result<Self, ExportError> {
        let mut out = BufWriter::with_capacity(64 * 1024, writer);
        out.write_all(b"{\"user\":")?;
        serde_json::to_writer(&mut out, user)?;
        out.write_all(b",\"exportedAt\":")?;
        serde_json::to_writer(&mut out, exported_at)?;
        out.write_all(b",\"cvs\":[")?;
        Ok(JsonExporter { out, first: true })
    }
}

impl<W: Write> CvExporter for JsonExporter<W> {
    type Output = W;

    fn add_cv(&mut self, cv: &CvExport) -> Result<(), ExportError> {
        if !self.first {
            self.out.write_all(b",")?;
        }
        self.first = false;
        serde_json::to_writer(&mut self.out, cv)?;
        Ok(())
    }

    fn finish(mut self) -> Result<W, ExportError> {
        self.out.write_all(b"]}\n")?;
        self.out.into_inner().map_err(|e| ExportError::Io(e.into_error()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::CvVersionExport;
    use serde_json::{Value, json};

    #[test]
    fn writes_the_contract_shape() -> Result<(), Box<dyn std::error::Error>> {
        let user = ExportUser { id: 3, name: "Zoë".into(), email: "zoe@example.com".into() };
        let mut export = JsonExporter::begin(Vec::new(), &user, "2026-11-27T10:00:00Z")?;
        for id in [1, 2] {
            export.add_cv(&CvExport {
                id,
                title: format!("CV {id}"),
                created_at: Some("2026-01-01T00:00:00Z".into()),
                updated_at: None,
                document: json!({"basics": {"name": "Zoë"}}),
                versions: vec![CvVersionExport {
                    id: 10 + id,
                    reason: Some("autosave".into()),
                    created_at: None,
                    document: json!({}),
                }],
                template: "modern".into(),
            })?;
        }
        let bytes = export.finish()?;
        let v: Value = serde_json::from_slice(&bytes)?;
        assert_eq!(v["user"], json!({"id": 3, "name": "Zoë", "email": "zoe@example.com"}));
        assert_eq!(v["exportedAt"], "2026-11-27T10:00:00Z");
        assert_eq!(v["cvs"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            v["cvs"][1],
            json!({
                "id": 2, "title": "CV 2", "createdAt": "2026-01-01T00:00:00Z", "updatedAt": null,
                "document": {"basics": {"name": "Zoë"}},
                "versions": [{"id": 12, "reason": "autosave", "createdAt": null, "document": {}}]
            })
        );
        Ok(())
    }

    #[test]
    fn empty_export_is_valid_json() -> Result<(), Box<dyn std::error::Error>> {
        let user = ExportUser { id: 1, name: String::new(), email: String::new() };
        let bytes = JsonExporter::begin(Vec::new(), &user, "2026-11-27T10:00:00Z")?.finish()?;
        let v: Value = serde_json::from_slice(&bytes)?;
        assert_eq!(v["cvs"], json!([]));
        Ok(())
    }
}
