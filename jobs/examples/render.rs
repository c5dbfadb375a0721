//! Renders a JSON Resume file to PDF: `cargo run -p cv-jobs --example render -- cv.json classic out.pdf`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, template, output] = args.as_slice() else {
        eprintln!("usage: render <cv.json> <classic|modern> <out.pdf>");
        return ExitCode::from(2);
    };
    let result = (|| -> Result<u32, Box<dyn std::error::Error>> {
        let text = std::fs::read_to_string(input)?;
        let doc = cv_jobs::document::CvDocument::from_json_str(&text)?;
        let template: cv_jobs::pdf::Template = template.parse()?;
        let pdf = cv_jobs::pdf::render(&doc, template)?;
        std::fs::write(output, &pdf.bytes)?;
        Ok(pdf.pages)
    })();
    match result {
        Ok(pages) => {
            println!("{output}: {pages} page(s)");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
