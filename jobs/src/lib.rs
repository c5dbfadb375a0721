//! The CV domain of cv-worker: the CV document model, the PDF renderer and the exporters.
//!
//! This crate knows nothing about queues, databases or Laravel; the engine's handlers
//! (`cv-worker/src/handlers`) adapt it to jobs. It reads no clock and no files at run time:
//! everything it needs, fonts included, is compiled in.
//!
//! # The API
//!
//! - [`document::CvDocument`] — a [JSON Resume](https://jsonresume.org/schema) document.
//!   [`CvDocument::from_json`](document::CvDocument::from_json) validates a
//!   `serde_json::Value` and reports *every* problem with its JSON path
//!   (`work[2].startDate: expected a string, found a number`) in a
//!   [`document::DocumentError`]. Unknown fields are kept (`extra`) and ignored.
//! - [`pdf::render`]`(&CvDocument, Template) -> Result<RenderedPdf { bytes, pages }, RenderError>`
//!   with [`pdf::Template::Classic`] (one column) or [`pdf::Template::Modern`] (sidebar);
//!   `"modern".parse::<Template>()` fails with the list of known names. The same document
//!   always renders to the same bytes; the PDF's dates come from `meta.lastModified` (set it
//!   from `cvs.updated_at` if the document has none), A4 unless `meta.pageSize` is `Letter`.
//! - [`export`] — [`export::JsonExporter`], [`export::CsvExporter`] (any `Write`) and
//!   [`export::ZipExporter`] (`Write + Seek`), fed one [`export::CvExport`] at a time through
//!   the [`export::CvExporter`] trait, so an export of any size runs in the memory of one CV.
//!
//! ```
//! use cv_jobs::document::CvDocument;
//! use cv_jobs::pdf::{self, Template};
//!
//! let doc = CvDocument::from_json(&serde_json::json!({
//!     "basics": {"name": "Zoë Łukasiewicz-Ødegård", "email": "zoe@example.org"},
//!     "work": [{"name": "Яндекс", "position": "Developer", "startDate": "2017-03"}],
//!     "meta": {"lastModified": "2026-11-20T09:30:00Z"}
//! }))?;
//! let template: Template = "modern".parse()?;
//! let pdf = pdf::render(&doc, template)?;
//! assert!(pdf.bytes.starts_with(b"%PDF-"));
//! assert_eq!(pdf.pages, 1);
//!
//! let err = CvDocument::from_json(&serde_json::json!({"work": [{"startDate": 2021}]}))
//!     .unwrap_err();
//! assert!(err.to_string().contains("work[0].startDate: expected a string"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What a rendered CV is
//!
//! Fonts: Noto Sans Regular, Bold and Italic (SIL OFL 1.1, `jobs/fonts/OFL.txt`), embedded as
//! subsets with a `/ToUnicode` map — Latin, Latin Extended, Greek (polytonic too) and
//! Cyrillic; characters the fonts lack are drawn as `?`, never as empty boxes. Text is laid
//! out by the fonts' glyph advances: wrapped within the margins, entries kept whole on a page
//! (split only between lines when taller than a page), headings kept with what follows, and a
//! "N / M" footer on every page. Email, phone, web site, profiles and entry URLs are link
//! annotations without borders (`http(s)`, `mailto:` and `tel:` targets only). Document
//! information: Title "NAME — CV", Author NAME, Subject the label, Creator `cv-worker`.
//!
//! Text is extractable in reading order — what `pdftotext` and ATS parsers see: the
//! `modern` template sets its sidebar so that extractors read it as one block, before the
//! main column (see `pdf/modern.rs`).
//!
//! Measured on the sample two-page CV (`examples/bench_render.rs`, release build, one
//! core): ~3.3 ms per render warm, ~37 KB per PDF.

pub mod document;
pub mod export;
pub mod pdf;
