//! The `classic` template: one column, a centred header, blue section titles with a rule
//! running out to the margin, dates and places in a right-hand column beside each entry.

use super::PageGeometry;
use super::content::{Content, Entry, Item};
use super::fonts::Face;
use super::layout::{Align, Block, Draw, Frame, Rgb, Row, Span, Style, Typesetter, paginate};

const ACCENT: Rgb = Rgb::hex(0x0B4A80);
const TEXT: Rgb = Rgb::hex(0x1B1F24);
const MUTED: Rgb = Rgb::hex(0x5E6673);
const LINK: Rgb = Rgb::hex(0x0B4A80);

const BODY: Style = Style::new(Face::Regular, 9.8, TEXT);
const BOLD: Style = BODY.with_face(Face::Bold);
const NAME: Style = Style::new(Face::Bold, 27.0, ACCENT);
const LABEL: Style = Style::new(Face::Regular, 11.5, MUTED);
const CONTACT: Style = Style::new(Face::Regular, 9.2, LINK);
const SEPARATOR: Style = CONTACT.with_color(Rgb::hex(0xA3AAB5));
const HEADING: Style = Style::new(Face::Bold, 13.0, ACCENT);
const SMALL: Style = Style::new(Face::Italic, 8.0, MUTED);

const LINE: f32 = 1.42;
const MARGIN_X: f32 = 54.0;
const RIGHT_COLUMN: f32 = 118.0;
const GUTTER: f32 = 14.0;
const BULLET_INDENT: f32 = 11.0;

pub(crate) fn layout(c: &Content, ts: &Typesetter<'_>, page: PageGeometry) -> Vec<Vec<Draw>> {
    let x = MARGIN_X;
    let w = page.width - 2.0 * MARGIN_X;
    let mut blocks = Vec::new();

    // Header: name, label, contact line.
    let mut header = ts.paragraph(&[ts.span(&c.name, NAME)], x, w, Align::Center, 1.25);
    if let Some(label) = &c.label {
        header.extend(ts.paragraph(&[ts.span(label, LABEL)], x, w, Align::Center, 1.45));
    }
    if !c.contacts.is_empty() {
        header.push(Row::gap(3.0));
        let items: Vec<Vec<Span>> = c
            .contacts
            .iter()
            .map(|contact| {
                vec![match &contact.uri {
                    Some(uri) => ts.link(&contact.text, CONTACT, uri),
                    None => ts.span(&contact.text, CONTACT.with_color(TEXT)),
                }]
            })
            .collect();
        let separator = ts.span("   |   ", SEPARATOR);
        header.extend(ts.inline_list(items, &separator, x, w, Align::Center, 1.5));
    }
    blocks.push(Block { rows: header, keep_together: true, ..Block::default() });

    if !c.summary.is_empty() {
        blocks.push(heading(ts, "Summary", x, w));
        for (i, p) in c.summary.iter().enumerate() {
            blocks.push(Block {
                rows: ts.paragraph(&[ts.span(p, BODY)], x, w, Align::Left, LINE),
                space_before: if i == 0 { 2.0 } else { 5.0 },
                ..Block::default()
            });
        }
    }

    for section in &c.sections {
        blocks.push(heading(ts, section.title, x, w));
        for e in &section.entries {
            blocks.push(entry(ts, e, x, w));
        }
    }

    for (title, items) in [("Skills", &c.skills), ("Interests", &c.interests)] {
        if items.is_empty() {
            continue;
        }
        blocks.push(heading(ts, title, x, w));
        for (i, item) in items.iter().enumerate() {
            blocks.push(Block {
                rows: ts.paragraph(&item_spans(ts, item), x, w, Align::Left, LINE),
                space_before: if i == 0 { 2.0 } else { 1.5 },
                keep_together: true,
                ..Block::default()
            });
        }
    }

    if !c.languages.is_empty() {
        blocks.push(heading(ts, "Languages", x, w));
        let mut spans = Vec::new();
        for (i, l) in c.languages.iter().enumerate() {
            if i > 0 {
                spans.push(ts.span("    ·    ", BODY.with_color(MUTED)));
            }
            spans.push(ts.span(&l.label, BOLD));
            if let Some(level) = &l.level {
                spans.push(ts.span(&format!(" ({level})"), BODY));
            }
        }
        blocks.push(Block {
            rows: ts.paragraph(&spans, x, w, Align::Left, LINE),
            space_before: 2.0,
            ..Block::default()
        });
    }

    let bottom = page.height - 52.0;
    let mut pages = paginate(&blocks, Frame { top: 40.0, bottom }, Frame { top: 46.0, bottom });

    // Decorations, now that the page count is known.
    let total = pages.len();
    for (i, draws) in pages.iter_mut().enumerate() {
        let footer = format!("{} — {} / {}", c.name, i + 1, total);
        for row in ts.paragraph(&[ts.span(&footer, SMALL)], x, w, Align::Center, 1.0) {
            let y = page.height - 30.0;
            draws.extend(row.draws.into_iter().map(|d| d.moved_down(y)));
        }
        if i == 0
            && let Some(updated) = &c.last_updated
        {
            let text = format!("Last updated {updated}");
            for row in ts.paragraph(&[ts.span(&text, SMALL)], x, w, Align::Right, 1.0) {
                draws.extend(row.draws.into_iter().map(|d| d.moved_down(20.0)));
            }
        }
    }
    pages
}

/// A section title with a rule running from its end to the right margin.
fn heading(ts: &Typesetter<'_>, title: &str, x: f32, w: f32) -> Block {
    let mut rows = ts.paragraph(&[ts.span(title, HEADING)], x, w, Align::Left, 1.5);
    if let Some(row) = rows.first_mut() {
        let text_w = ts.width(title, HEADING);
        let baseline = (row.height + 0.71 * HEADING.size) / 2.0;
        let start = x + text_w + 7.0;
        row.draws.push(Draw::Rect {
            x: start,
            y: baseline - 0.30 * HEADING.size,
            w: (x + w - start).max(0.0),
            h: 0.75,
            color: ACCENT,
        });
    }
    Block { rows, space_before: 11.0, keep_with_next: true, ..Block::default() }
}

fn item_spans(ts: &Typesetter<'_>, item: &Item) -> Vec<Span> {
    let mut spans = Vec::new();
    if !item.label.is_empty() {
        let colon = if item.detail.is_some() { ":" } else { "" };
        spans.push(ts.span(&format!("{}{colon} ", item.label), BOLD));
    }
    if let Some(detail) = &item.detail {
        spans.push(ts.span(detail, BODY));
    }
    if let Some(level) = &item.level {
        spans.push(ts.span(&format!(" ({level})"), BODY.with_color(MUTED)));
    }
    spans
}

/// One entry: title line, text and bullets on the left; place and dates on the right.
fn entry(ts: &Typesetter<'_>, e: &Entry, x: f32, w: f32) -> Block {
    let right: Vec<&String> = [&e.location, &e.date].into_iter().flatten().collect();
    let left_w = if right.is_empty() { w } else { w - RIGHT_COLUMN - GUTTER };

    let mut title = Vec::new();
    match (&e.title, &e.subtitle) {
        (Some(t), sub) => {
            title.push(match &e.url {
                Some(uri) => ts.link(t, BOLD, uri),
                None => ts.span(t, BOLD),
            });
            if let Some(s) = sub {
                title.push(ts.span(&format!(", {s}"), BODY));
            }
        }
        (None, Some(s)) => title.push(ts.span(s, BOLD)),
        (None, None) => {}
    }
    let mut left = ts.paragraph(&title, x, left_w, Align::Left, LINE);
    for p in &e.summary {
        left.extend(ts.paragraph(&[ts.span(p, BODY)], x, left_w, Align::Left, LINE));
    }
    for b in &e.bullets {
        left.extend(bullet(ts, b, x, left_w));
    }
    if !e.tags.is_empty() {
        let tags = e.tags.join(" · ");
        left.extend(ts.paragraph(
            &[ts.span(&tags, BODY.with_face(Face::Italic).with_color(MUTED))],
            x,
            left_w,
            Align::Left,
            LINE,
        ));
    }

    let mut right_rows = Vec::new();
    for text in right {
        right_rows.extend(ts.paragraph(&[ts.span(text, BODY)], x + w - RIGHT_COLUMN, RIGHT_COLUMN, Align::Right, LINE));
    }

    Block { rows: side_by_side(left, right_rows), space_before: 8.0, keep_together: true, ..Block::default() }
}

/// Zips two columns of rows into one.
pub(crate) fn side_by_side(left: Vec<Row>, right: Vec<Row>) -> Vec<Row> {
    let n = left.len().max(right.len());
    let mut left = left.into_iter();
    let mut right = right.into_iter();
    (0..n)
        .map(|_| {
            let mut row = left.next().unwrap_or_default();
            if let Some(r) = right.next() {
                row.merge(r);
            }
            row
        })
        .collect()
}

/// A bullet point with a hanging indent.
fn bullet(ts: &Typesetter<'_>, text: &str, x: f32, w: f32) -> Vec<Row> {
    let mut rows = ts.paragraph(&[ts.span(text, BODY)], x + BULLET_INDENT, w - BULLET_INDENT, Align::Left, LINE);
    if let Some(first) = rows.first_mut() {
        let baseline = (first.height + 0.71 * BODY.size) / 2.0;
        first.draws.insert(0, Draw::Text { x: x + 2.0, y: baseline, text: "•".into(), style: BODY.with_color(MUTED) });
    }
    rows
}
