//! The PDF renderer, checked from the outside: poppler-utils (`pdftotext`, `pdffonts`,
//! `pdfinfo`) read what an ATS or a viewer would, and lopdf looks at the file's objects.

mod common;

use std::collections::BTreeSet;

use common::*;
use cv_jobs::document::CvDocument;
use cv_jobs::pdf::{Template, render as render_pdf};
use lopdf::{Document, Object};
use serde_json::json;

const TWO_PAGE_CLASSIC_ORDER: &[&str] = &[
    "Maya Lindqvist",
    "Senior Backend Engineer",
    "maya.lindqvist@example.com",
    "Summary",
    "Backend engineer with ten years",
    "Experience",
    "Kassa Payments",
    "Spotlight Search AB",
    "Nordvik Logistics",
    "Ericsson",
    "Projects",
    "pg-outbox",
    "Education",
    "KTH Royal Institute of Technology",
    "Uppsala University",
    "Volunteering",
    "Rails Girls Stockholm",
    "Awards",
    "Engineering Excellence Award",
    "Certificates",
    "AWS Certified Solutions Architect",
    "Publications",
    "Partitioning a Ledger Without Stopping the World",
    "References",
    "Johan Berg",
    "Skills",
    "Infrastructure",
    "Interests",
    "Open source",
    "Languages",
    "Norwegian",
];

const TWO_PAGE_MODERN_ORDER: &[&str] = &[
    "Maya Lindqvist",
    "Senior Backend Engineer",
    // The sidebar, read whole…
    "CONTACT",
    "maya.lindqvist@example.com",
    "linkedin.com/in/maya-lindqvist",
    "SKILLS",
    "Languages",
    "Practices",
    "LANGUAGES",
    "Swedish",
    "German",
    "INTERESTS",
    "Open source",
    "Outdoors",
    // …then the main column.
    "PROFILE",
    "Backend engineer with ten years",
    "EXPERIENCE",
    "Staff Engineer, Ledger",
    "Kassa Payments",
    "Spotlight Search AB",
    "Nordvik Logistics",
    "Ericsson",
    "PROJECTS",
    "pg-outbox",
    "EDUCATION",
    "KTH Royal Institute of Technology",
    "Uppsala University",
    "VOLUNTEERING",
    "Rails Girls Stockholm",
    "AWARDS",
    "Engineering Excellence Award",
    "CERTIFICATES",
    "AWS Certified Solutions Architect",
    "PUBLICATIONS",
    "Partitioning a Ledger Without Stopping the World",
    "REFERENCES",
    "Johan Berg",
];

fn order_for(template: Template) -> &'static [&'static str] {
    match template {
        Template::Classic => TWO_PAGE_CLASSIC_ORDER,
        Template::Modern => TWO_PAGE_MODERN_ORDER,
    }
}

#[test]
fn pdftotext_reads_name_headings_and_entries_in_order() {
    let doc = sample("two-page.json");
    let raw = sample_json("two-page.json");
    for template in Template::ALL {
        let pdf = render(&doc, template);
        assert_eq!(pdf.pages, 2, "{template}");
        let path = write_temp(&format!("order-{template}.pdf"), &pdf.bytes);
        let text = flat(&pdftotext(&path));
        assert_in_order(&text, order_for(template));
        // Every highlight and summary, whole (wrapped lines join up).
        for work in raw["work"].as_array().into_iter().flatten() {
            for h in work["highlights"].as_array().into_iter().flatten() {
                let h = flat(h.as_str().unwrap_or_default());
                assert!(text.contains(&h), "{template}: missing highlight {h:?}");
            }
        }
        assert!(text.contains(&flat(
            "Currently leading the ledger team at a Nordic fintech; looking for a staff role where \
             reliability and developer experience are first-class product features."
        )));
    }
}

#[test]
fn fonts_are_embedded_and_subset() {
    let doc = sample("two-page.json");
    for template in Template::ALL {
        let path = write_temp(&format!("fonts-{template}.pdf"), &render(&doc, template).bytes);
        let listing = poppler("pdffonts", &[&path.to_string_lossy()]);
        let rows: Vec<&str> = listing.lines().skip(2).collect();
        assert!(rows.len() >= 2, "{listing}");
        for row in rows {
            let cols: Vec<&str> = row.split_whitespace().collect();
            // name type… encoding emb sub uni object ID
            let n = cols.len();
            assert!(n >= 7, "{row}");
            assert_eq!(&cols[n - 5..n - 2], ["yes", "yes", "yes"], "emb/sub/uni: {row}");
            let name = cols[0];
            assert!(
                name.len() > 7 && name.as_bytes()[6] == b'+' && name[..6].chars().all(|c| c.is_ascii_uppercase()),
                "not a subset tag: {name}"
            );
            assert!(name.contains("NotoSans"), "{name}");
        }
    }
}

/// Glyph ids shown by `Tj`/`TJ` on every page (two bytes each: Identity-H).
fn shown_glyph_ids(bytes: &[u8]) -> Vec<u16> {
    let doc = Document::load_mem(bytes).unwrap_or_else(|e| panic!("lopdf: {e}"));
    let mut gids = Vec::new();
    for (_, page) in doc.get_pages() {
        let content = doc.get_and_decode_page_content(page).unwrap_or_else(|e| panic!("content: {e}"));
        for op in content.operations {
            let strings: Vec<&Object> = match op.operator.as_str() {
                "Tj" => op.operands.iter().collect(),
                "TJ" => op.operands.iter().filter_map(|o| o.as_array().ok()).flatten().collect(),
                _ => continue,
            };
            for s in strings {
                if let Object::String(b, _) = s {
                    gids.extend(b.chunks(2).map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])));
                }
            }
        }
    }
    gids
}

#[test]
fn latin_greek_and_cyrillic_render_without_notdef() {
    let doc = sample("unicode.json");
    for template in Template::ALL {
        let pdf = render(&doc, template);
        let gids = shown_glyph_ids(&pdf.bytes);
        assert!(!gids.is_empty());
        assert!(!gids.contains(&0), "{template}: a .notdef glyph is drawn");
        let path = write_temp(&format!("unicode-{template}.pdf"), &pdf.bytes);
        let text = flat(&pdftotext(&path));
        for needle in [
            "Zoë Łukasiewicz-Ødegård",
            "Дмитрий Иванович Менделеев, Ёлка, Щука, Жёлудь",
            "Ђорђе, Љубица, Његош, Џеф",
            "Πανεπιστήμιο Αθηνών",
            "ἐν ἀρχῇ ἦν ὁ λόγος",
            "Þórshöfn, Reykjavík, Ísafjörður, Ægir",
            "İstanbul, Iași, Ştefan, Țară",
            "“typographically correct”",
            "Tiếng Việt",
        ] {
            assert!(text.contains(needle), "{template}: {needle:?} not in\n{text}");
        }
        assert!(!text.contains('?') && !text.contains('\u{FFFD}'), "{template}: {text}");
    }
}

#[test]
fn forty_entries_flow_over_pages_with_page_footers() {
    let doc = sample("forty-entries.json");
    for template in Template::ALL {
        let pdf = render(&doc, template);
        assert!(pdf.pages >= 3, "{template}: {} pages", pdf.pages);
        let path = write_temp(&format!("forty-{template}.pdf"), &pdf.bytes);
        let info = poppler("pdfinfo", &[&path.to_string_lossy()]);
        assert!(info.contains(&format!("Pages:           {}", pdf.pages)), "{info}");

        let pages: Vec<String> = (1..=pdf.pages).map(|n| flat(&pdftotext_page(&path, n))).collect();
        for (i, text) in pages.iter().enumerate() {
            let footer = format!("{} / {}", i + 1, pdf.pages);
            assert!(text.contains(&footer), "{template}: page {} lacks {footer:?}", i + 1);
        }
        // Every entry, in order, each on one page with all its lines.
        let all = pages.join("\n");
        let needles: Vec<String> = (1..=40).map(|i| format!("(Project {i:02})")).collect();
        let refs: Vec<&str> = needles.iter().map(String::as_str).collect();
        assert_in_order(&all, &refs);
        for i in 1..=40 {
            let title = format!("(Project {i:02})");
            let last_line = format!("Entry {i:02}: mentored");
            let page_of = |needle: &str| pages.iter().position(|p| p.contains(needle));
            assert!(page_of(&title).is_some(), "{template}: {title} missing");
            assert_eq!(page_of(&title), page_of(&last_line), "{template}: entry {i} split across pages");
        }
    }
}

/// URIs of every link annotation, and whether all of them are borderless.
fn link_uris(bytes: &[u8]) -> (BTreeSet<String>, bool) {
    let doc = Document::load_mem(bytes).unwrap_or_else(|e| panic!("lopdf: {e}"));
    let mut uris = BTreeSet::new();
    let mut borderless = true;
    for (_, page) in doc.get_pages() {
        let Ok(page) = doc.get_dictionary(page) else {
            continue;
        };
        let Ok(annots) = page.get(b"Annots").and_then(Object::as_array) else {
            continue;
        };
        for annot in annots {
            let annot = match annot {
                Object::Reference(id) => doc.get_dictionary(*id).ok(),
                Object::Dictionary(d) => Some(d),
                _ => None,
            };
            let Some(annot) = annot else { continue };
            assert_eq!(annot.get(b"Subtype").and_then(Object::as_name).ok(), Some(&b"Link"[..]));
            let uri = annot
                .get(b"A")
                .and_then(Object::as_dict)
                .and_then(|a| a.get(b"URI"))
                .and_then(Object::as_str)
                .map(|s| String::from_utf8_lossy(s).into_owned());
            if let Ok(uri) = uri {
                uris.insert(uri);
            }
            let border = annot
                .get(b"Border")
                .and_then(Object::as_array)
                .map(|b| b.iter().filter_map(|v| v.as_float().ok()).collect::<Vec<f32>>());
            borderless &= matches!(border, Ok(ref b) if b.len() >= 3 && b[2] == 0.0);
        }
    }
    (uris, borderless)
}

#[test]
fn links_are_borderless_uri_annotations() {
    let doc = sample("two-page.json");
    for template in Template::ALL {
        let (uris, borderless) = link_uris(&render(&doc, template).bytes);
        for expected in [
            "mailto:maya.lindqvist@example.com",
            "tel:+46701234567",
            "https://mayalindqvist.dev",
            "https://github.com/mlindqvist",
            "https://www.linkedin.com/in/maya-lindqvist",
            "https://kassa.example.com",
            "https://github.com/mlindqvist/pg-outbox",
        ] {
            assert!(uris.contains(expected), "{template}: {expected} not in {uris:?}");
        }
        assert!(borderless, "{template}: a link annotation has a visible border");
    }
}

#[test]
fn unsafe_link_targets_are_not_linked() {
    let doc = CvDocument::from_json(&json!({
        "basics": {"name": "X", "url": "javascript:alert(1)",
                   "profiles": [{"network": "Files", "url": "file:///etc/passwd"}]}
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    let (uris, _) = link_uris(&render(&doc, Template::Classic).bytes);
    assert!(uris.is_empty(), "{uris:?}");
}

#[test]
fn same_input_same_bytes() {
    let a = sample("two-page.json");
    let b = sample("unicode.json");
    for template in Template::ALL {
        let first = render(&a, template).bytes;
        let _other = render(&b, template);
        let second = render(&a, template).bytes;
        assert!(first == second, "{template}: output differs between renders");
    }
}

#[test]
fn metadata_comes_from_the_document() {
    let doc = sample("two-page.json");
    let path = write_temp("meta.pdf", &render(&doc, Template::Classic).bytes);
    let info = poppler("pdfinfo", &["-isodates", &path.to_string_lossy()]);
    for line in [
        "Title:           Maya Lindqvist — CV",
        "Author:          Maya Lindqvist",
        "Creator:         cv-worker",
        "CreationDate:    2026-11-20T09:30:00Z",
        "ModDate:         2026-11-20T09:30:00Z",
        "Page size:       595.28 x 841.89 pts (A4)",
    ] {
        assert!(info.contains(line), "{line:?} not in\n{info}");
    }
    // Without meta.lastModified there are no dates at all (rather than 1970 or the clock).
    let undated = CvDocument::from_json(&json!({"basics": {"name": "Ada"}})).unwrap_or_else(|e| panic!("{e}"));
    let path = write_temp("undated.pdf", &render(&undated, Template::Classic).bytes);
    let info = poppler("pdfinfo", &[&path.to_string_lossy()]);
    assert!(!info.contains("CreationDate"), "{info}");
    assert!(info.contains("Title:           Ada — CV"), "{info}");
}

#[test]
fn letter_when_meta_says_so() {
    let mut v = sample_json("unicode.json");
    v["meta"]["pageSize"] = json!("Letter");
    let doc = CvDocument::from_json(&v).unwrap_or_else(|e| panic!("{e}"));
    for template in Template::ALL {
        let path = write_temp(&format!("letter-{template}.pdf"), &render(&doc, template).bytes);
        let info = poppler("pdfinfo", &[&path.to_string_lossy()]);
        assert!(info.contains("Page size:       612 x 792 pts (letter)"), "{info}");
    }
}

#[test]
fn long_text_wraps_inside_the_margins() {
    let long_word = "https://example.com/".to_string() + &"very-long-path-segment/".repeat(20);
    let doc = CvDocument::from_json(&json!({
        "basics": {"name": "Wrap Test", "summary": format!("{} {}", "word ".repeat(300), long_word)},
        "work": [{"name": "A", "position": "B", "highlights": [long_word.clone(), "x ".repeat(200)]}],
        "skills": [{"name": "Long", "keywords": [long_word]}]
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    for template in Template::ALL {
        let path = write_temp(&format!("wrap-{template}.pdf"), &render(&doc, template).bytes);
        let bbox = poppler("pdftotext", &["-bbox", &path.to_string_lossy(), "-"]);
        let mut words = 0;
        for line in bbox.lines().filter(|l| l.trim_start().starts_with("<word")) {
            let attr = |name: &str| -> f32 {
                line.split(&format!("{name}=\""))
                    .nth(1)
                    .and_then(|s| s.split('"').next())
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(f32::NAN)
            };
            words += 1;
            assert!(attr("xMin") >= 20.0, "{template}: {line}");
            assert!(attr("xMax") <= 595.28 - 30.0, "{template}: runs into the margin: {line}");
        }
        assert!(words > 300, "{template}");
    }
}

#[test]
fn two_page_cv_stays_small() {
    let doc = sample("two-page.json");
    for template in Template::ALL {
        let pdf = render_pdf(&doc, template).unwrap_or_else(|e| panic!("{e}"));
        assert!(pdf.bytes.len() <= 60 * 1024, "{template}: {} bytes", pdf.bytes.len());
    }
}

#[test]
fn invalid_documents_name_the_json_path() {
    let err = CvDocument::from_json(&json!({"work": [{}, {}, {"startDate": 2021}]})).expect_err("invalid document");
    assert!(err.to_string().contains("work[2].startDate: expected a string"), "{err}");
}

#[test]
fn empty_document_renders_one_page() {
    cv_jobs::pdf::warm_up().unwrap_or_else(|e| panic!("{e}"));
    let doc = CvDocument::from_json(&json!({})).unwrap_or_else(|e| panic!("{e}"));
    for template in Template::ALL {
        let pdf = render(&doc, template);
        assert_eq!(pdf.pages, 1);
        let path = write_temp(&format!("empty-{template}.pdf"), &pdf.bytes);
        assert!(pdftotext(&path).contains("1 / 1"));
    }
}

#[test]
fn an_entry_taller_than_a_page_splits_between_lines() {
    let highlights: Vec<String> = (1..=150).map(|i| format!("Highlight number {i:03} of a very long entry")).collect();
    let doc = CvDocument::from_json(&json!({
        "basics": {"name": "Long Entry"},
        "work": [{"name": "Marathon Corp", "position": "Runner", "highlights": highlights}]
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    for template in Template::ALL {
        let pdf = render(&doc, template);
        assert!(pdf.pages >= 2, "{template}");
        let path = write_temp(&format!("long-entry-{template}.pdf"), &pdf.bytes);
        let text = pdftotext(&path);
        let needles: Vec<String> = (1..=150).map(|i| format!("Highlight number {i:03} of a very long entry")).collect();
        let refs: Vec<&str> = needles.iter().map(String::as_str).collect();
        assert_in_order(&text, &refs);
    }
}
