//! Helpers shared by the integration tests: the sample documents and poppler-utils.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use cv_jobs::document::CvDocument;
use cv_jobs::pdf::{self, RenderedPdf, Template};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

pub fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

pub fn sample_json(name: &str) -> serde_json::Value {
    let path = samples_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn sample(name: &str) -> CvDocument {
    CvDocument::from_json(&sample_json(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub fn render(doc: &CvDocument, template: Template) -> RenderedPdf {
    pdf::render(doc, template).unwrap_or_else(|e| panic!("render failed: {e}"))
}

/// Writes `bytes` to a fresh file under the temp dir and returns its path.
pub fn write_temp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cv-jobs-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path
}

/// Runs a poppler-utils tool and returns its stdout.
pub fn poppler(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool} ({e}); install poppler-utils (apt-get install poppler-utils)"));
    assert!(out.status.success(), "{tool} {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn pdftotext(path: &Path) -> String {
    poppler("pdftotext", &[&path.to_string_lossy(), "-"])
}

pub fn pdftotext_page(path: &Path, page: u32) -> String {
    let p = page.to_string();
    poppler("pdftotext", &["-f", &p, "-l", &p, &path.to_string_lossy(), "-"])
}

/// Whitespace runs collapsed to one space (wrapped lines join up).
pub fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Asserts that `needles` occur in `haystack` in this order; returns their positions.
pub fn assert_in_order(haystack: &str, needles: &[&str]) -> Vec<usize> {
    let mut from = 0;
    let mut positions = Vec::new();
    for needle in needles {
        match haystack[from..].find(needle) {
            Some(i) => {
                from += i + needle.len();
                positions.push(from - needle.len());
            }
            None => panic!(
                "{needle:?} not found after position {from} (found anywhere: {})\n--- text ---\n{haystack}",
                haystack.contains(needle)
            ),
        }
    }
    positions
}
