//! Streams an export of N copies of a sample CV to a file and reports time and peak memory:
//! `cargo run --release -p cv-jobs --example export -- zip 2000 /tmp/export.zip`.

use std::fs::File;
use std::io::BufWriter;
use std::time::Instant;

use cv_jobs::export::{
    CsvExporter, CvExport, CvExporter, CvVersionExport, ExportFormat, ExportUser, JsonExporter, ZipExporter,
};

fn status(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field).map(|v| v.trim().to_string()))
        .unwrap_or_else(|| "n/a".into())
}

fn feed<E: CvExporter>(
    mut export: E,
    count: i64,
    document: &serde_json::Value,
) -> Result<(), Box<dyn std::error::Error>> {
    for id in 1..=count {
        export.add_cv(&CvExport {
            id,
            title: format!("CV number {id}"),
            created_at: Some("2026-01-02T03:04:05Z".into()),
            updated_at: Some("2026-11-20T09:30:00Z".into()),
            document: document.clone(),
            versions: vec![CvVersionExport {
                id: 100_000 + id,
                reason: Some("autosave".into()),
                created_at: Some("2026-11-19T09:30:00Z".into()),
                document: document.clone(),
            }],
            template: if id % 2 == 0 { "modern" } else { "classic" }.into(),
        })?;
    }
    export.finish()?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let format: ExportFormat = args.first().map_or("zip", String::as_str).parse()?;
    let count: i64 = args.get(1).map_or(Ok(2000), |s| s.parse())?;
    let path = args.get(2).cloned().unwrap_or_else(|| format!("/tmp/cv-export.{}", format.name()));
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/two-page.json");
    let document: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(sample)?)?;
    let user = ExportUser { id: 1, name: "Maya Lindqvist".into(), email: "maya@example.com".into() };

    let start = Instant::now();
    let file = File::create(&path)?;
    match format {
        ExportFormat::Json => feed(JsonExporter::begin(file, &user, "2026-11-27T10:00:00Z")?, count, &document)?,
        ExportFormat::Csv => feed(CsvExporter::begin(file)?, count, &document)?,
        ExportFormat::Zip => feed(ZipExporter::begin(BufWriter::new(file), "2026-11-27T10:00:00Z")?, count, &document)?,
    }
    let elapsed = start.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&path)?.len();
    println!(
        "{format}: {count} CVs -> {path} ({:.1} MB) in {elapsed:.2} s ({:.2} ms/CV); peak RSS {}, current RSS {}",
        bytes as f64 / 1e6,
        elapsed * 1e3 / count as f64,
        status("VmHWM:"),
        status("VmRSS:"),
    );
    Ok(())
}
