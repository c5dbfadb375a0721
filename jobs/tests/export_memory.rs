//! A 2,000-CV export streams: resident memory stays flat while the file grows.
//!
//! One test in its own binary, so no other test shares the process while RSS is sampled.

mod common;

use std::fs::File;
use std::io::{BufWriter, Read, Seek};

use common::*;
use cv_jobs::export::{CsvExporter, CvExport, CvExporter, CvVersionExport, ExportUser, JsonExporter, ZipExporter};

/// Resident set size of this process, in KiB (Linux).
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The n-th CV, built fresh as a database row would be.
fn cv(n: i64, document: &serde_json::Value) -> CvExport {
    CvExport {
        id: n,
        title: format!("CV number {n}"),
        created_at: Some("2026-01-02T03:04:05Z".into()),
        updated_at: Some("2026-11-20T09:30:00Z".into()),
        document: document.clone(),
        versions: vec![CvVersionExport {
            id: 100_000 + n,
            reason: Some("autosave".into()),
            created_at: Some("2026-11-19T09:30:00Z".into()),
            document: document.clone(),
        }],
        template: if n % 2 == 0 { "modern" } else { "classic" }.into(),
    }
}

const CVS: i64 = 2_000;
/// Allowed RSS growth between CV 200 and the end. The zip format keeps one central-directory
/// record per entry until the end (2 entries per CV), and the zip export keeps the index.csv
/// rows: ~2 MiB for 2,000 CVs. Everything else must stay flat.
const ALLOWED_GROWTH_KIB: u64 = 8 * 1024;

fn run<E: CvExporter>(name: &str, mut export: E, document: &serde_json::Value) -> (u64, u64) {
    let mut at_200 = 0;
    let mut peak = 0;
    for n in 1..=CVS {
        export.add_cv(&cv(n, document)).unwrap_or_else(|e| panic!("{name}: {e}"));
        if n == 200 {
            at_200 = rss_kib();
        }
        if n % 50 == 0 {
            peak = peak.max(rss_kib());
        }
    }
    export.finish().unwrap_or_else(|e| panic!("{name}: {e}"));
    (at_200, peak)
}

#[test]
fn exports_of_2000_cvs_keep_rss_bounded() -> TestResult {
    if !std::path::Path::new("/proc/self/status").exists() {
        eprintln!("no /proc: RSS cannot be measured here");
        return Ok(());
    }
    let document = sample_json("two-page.json");
    let user = ExportUser { id: 1, name: "Maya".into(), email: "maya@example.com".into() };
    let dir = write_temp("placeholder", b"").parent().map(std::path::Path::to_path_buf).ok_or("no temp dir")?;

    let zip_path = dir.join("export.zip");
    let zip = ZipExporter::begin(BufWriter::new(File::create(&zip_path)?), "2026-11-27T10:00:00Z")?;
    let (zip_200, zip_peak) = run("zip", zip, &document);

    let json_path = dir.join("export.json");
    let json = JsonExporter::begin(File::create(&json_path)?, &user, "2026-11-27T10:00:00Z")?;
    let (json_200, json_peak) = run("json", json, &document);

    let csv_path = dir.join("export.csv");
    let csv = CsvExporter::begin(File::create(&csv_path)?)?;
    let (csv_200, csv_peak) = run("csv", csv, &document);

    let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "RSS (KiB) at CV 200 → peak over {CVS} CVs: zip {zip_200} → {zip_peak} ({} MB file), \
         json {json_200} → {json_peak} ({} MB), csv {csv_200} → {csv_peak} ({} KB)",
        size(&zip_path) / 1_000_000,
        size(&json_path) / 1_000_000,
        size(&csv_path) / 1_000,
    );
    for (name, at_200, peak) in [("zip", zip_200, zip_peak), ("json", json_200, json_peak), ("csv", csv_200, csv_peak)]
    {
        assert!(peak.saturating_sub(at_200) < ALLOWED_GROWTH_KIB, "{name}: RSS grew from {at_200} KiB to {peak} KiB");
    }

    // The files are complete: the zip has every entry, the JSON parses.
    let mut archive = zip::ZipArchive::new(File::open(&zip_path)?)?;
    assert_eq!(archive.len() as i64, 2 * CVS + 1);
    let mut index = String::new();
    archive.by_name("index.csv")?.read_to_string(&mut index)?;
    assert_eq!(index.lines().count() as i64, CVS + 1);
    let mut json_file = File::open(&json_path)?;
    json_file.rewind()?;
    let parsed: serde_json::Value = serde_json::from_reader(std::io::BufReader::new(json_file))?;
    assert_eq!(parsed["cvs"].as_array().map(Vec::len), Some(CVS as usize));
    assert_eq!(std::fs::read_to_string(&csv_path)?.lines().count() as i64, CVS + 1);
    drop(archive);
    for path in [&zip_path, &json_path, &csv_path] {
        std::fs::remove_file(path)?;
    }
    Ok(())
}
