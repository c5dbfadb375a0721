//! Render benchmark: `cargo run --release -p cv-jobs --example bench_render [iterations]`.
//!
//! Renders the sample CVs with both templates and prints the cold (first render: fonts are
//! parsed) and warm times per CV, and the size of each PDF.

use std::time::Instant;

use cv_jobs::document::CvDocument;
use cv_jobs::pdf::{Template, render};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let iterations: u32 = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(300);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let load = |name: &str| -> Result<CvDocument, Box<dyn std::error::Error>> {
        let text = std::fs::read_to_string(dir.join(name))?;
        Ok(CvDocument::from_json_str(&text)?)
    };
    let docs = [
        ("two-page.json", load("two-page.json")?),
        ("unicode.json", load("unicode.json")?),
        ("forty-entries.json", load("forty-entries.json")?),
    ];

    let cold = Instant::now();
    render(&docs[0].1, Template::Classic)?;
    println!("cold first render (parses the fonts): {:.1} ms", cold.elapsed().as_secs_f64() * 1e3);

    println!("{:<20} {:<8} {:>6} {:>10} {:>10} {:>10}", "sample", "template", "pages", "ms/CV", "min ms", "KB/PDF");
    for (name, doc) in &docs {
        for template in Template::ALL {
            for _ in 0..20 {
                render(doc, template)?;
            }
            let mut min = f64::MAX;
            let start = Instant::now();
            let mut last = None;
            for _ in 0..iterations {
                let t = Instant::now();
                last = Some(render(doc, template)?);
                min = min.min(t.elapsed().as_secs_f64());
            }
            let mean = start.elapsed().as_secs_f64() / f64::from(iterations);
            let pdf = last.ok_or("no iterations")?;
            println!(
                "{:<20} {:<8} {:>6} {:>10.2} {:>10.2} {:>10.1}",
                name,
                template.name(),
                pdf.pages,
                mean * 1e3,
                min * 1e3,
                pdf.bytes.len() as f64 / 1024.0
            );
        }
    }

    let json = std::fs::read_to_string(dir.join("two-page.json"))?;
    let value: serde_json::Value = serde_json::from_str(&json)?;
    let start = Instant::now();
    for _ in 0..iterations {
        CvDocument::from_json(&value)?;
    }
    println!("validate two-page.json: {:.1} µs", start.elapsed().as_secs_f64() * 1e6 / f64::from(iterations));
    Ok(())
}
