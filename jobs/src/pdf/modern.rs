//! The `modern` template: a dark band with the name across the top of page 1, a tinted
//! sidebar with contact details, skills, languages and interests, and a main column with the
//! profile and the entries, each led by the role with its dates on the right.
//!
//! The two columns are separate flows, paginated independently; the document has as many
//! pages as the longer one needs, and the sidebar background is drawn on every page.
//!
//! Reading order. Text extractors do not follow the content stream: poppler's `pdftotext`
//! (and ATS parsers built the same way) group lines into blocks and order the blocks. Two
//! columns of small blocks get interleaved line by line — a sidebar block with nothing beside
//! it in the main column is widened over the main column, and sidebar/main block pairs that
//! line up are taken for a table and read row by row. So the sidebar is set in ONE font size
//! with baselines never more than 1.48 em apart (poppler's limit for lines of one block is
//! 1.5 em): extractors see it as a single block beside every main-column block, and read the
//! name band, then the whole sidebar, then the main column. Hierarchy in the sidebar comes
//! from weight, colour and hairlines rather than from whitespace.

use super::PageGeometry;
use super::classic::side_by_side;
use super::content::{Content, Entry, Item};
use super::fonts::Face;
use super::layout::{Align, Block, Draw, Frame, Rgb, Row, Style, Typesetter, paginate};

const BAND: Rgb = Rgb::hex(0x1E2B3A);
const BAND_TEXT: Rgb = Rgb::hex(0xFFFFFF);
const BAND_ACCENT: Rgb = Rgb::hex(0x79C6C1);

const SIDEBAR_BG: Rgb = Rgb::hex(0xEEF2F5);
const SB_TEXT: Rgb = Rgb::hex(0x1D242C);
const SB_MUTED: Rgb = Rgb::hex(0x5F6A77);
const SB_ACCENT: Rgb = Rgb::hex(0x146E69);
const SB_RULE: Rgb = Rgb::hex(0xC9D3DC);

const ACCENT: Rgb = Rgb::hex(0x146E69);
const TEXT: Rgb = Rgb::hex(0x1D242C);
const MUTED: Rgb = Rgb::hex(0x67717D);
const RULE: Rgb = Rgb::hex(0xD3DAE1);

const BODY: Style = Style::new(Face::Regular, 9.6, TEXT);
const BOLD: Style = BODY.with_face(Face::Bold);
const NAME: Style = Style::new(Face::Bold, 28.0, BAND_TEXT);
const LABEL: Style = Style::new(Face::Regular, 12.5, BAND_ACCENT);
const HEADING: Style = Style::new(Face::Bold, 10.8, ACCENT);
const DATE: Style = Style::new(Face::Regular, 8.8, MUTED);
const SMALL: Style = Style::new(Face::Italic, 7.6, MUTED);

const SB_HEADING: Style = Style::new(Face::Bold, SB_SIZE, SB_ACCENT);
const SB_BODY: Style = Style::new(Face::Regular, SB_SIZE, SB_TEXT);
const SB_LINK: Style = SB_BODY.with_color(SB_ACCENT);
const SB_BOLD: Style = SB_BODY.with_face(Face::Bold);
const SB_MUTED_STYLE: Style = SB_BODY.with_color(SB_MUTED);

const LINE: f32 = 1.42;
const BULLET_INDENT: f32 = 11.0;

pub(crate) fn layout(c: &Content, ts: &Typesetter<'_>, page: PageGeometry) -> Vec<Vec<Draw>> {
    let sidebar_w = (page.width * 0.32).round();
    let sx = 24.0;
    let sw = sidebar_w - 2.0 * sx;
    let mx = sidebar_w + 26.0;
    let mw = page.width - mx - 36.0;
    let bottom = page.height - 46.0;

    // The header band: name and label across the full width of page 1.
    let mut header = ts.paragraph(&[ts.span(&c.name, NAME)], sx, page.width - 2.0 * sx, Align::Left, 1.15);
    if let Some(label) = &c.label {
        header.extend(ts.paragraph(&[ts.span(label, LABEL)], sx, page.width - 2.0 * sx, Align::Left, 1.35));
    }
    let header_h: f32 = 30.0 + header.iter().map(|r| r.height).sum::<f32>() + 22.0;
    let mut header_draws = vec![Draw::Rect { x: 0.0, y: 0.0, w: page.width, h: header_h, color: BAND }];
    let mut y = 30.0;
    for row in header {
        let h = row.height;
        header_draws.extend(row.draws.into_iter().map(|d| d.moved_down(y)));
        y += h;
    }
    header_draws.push(Draw::Rect { x: sx, y: y + 8.0, w: 44.0, h: 3.0, color: BAND_ACCENT });

    let first = Frame { top: header_h + 26.0, bottom };
    let rest = Frame { top: 40.0, bottom };
    let main = paginate(&main_blocks(c, ts, mx, mw), first, rest);
    let side = paginate(&sidebar_blocks(c, ts, sx, sw), first, rest);

    let total = main.len().max(side.len());
    let mut main = main.into_iter();
    let mut side = side.into_iter();
    (0..total)
        .map(|i| {
            let top = if i == 0 { header_h } else { 0.0 };
            let mut draws = vec![Draw::Rect { x: 0.0, y: top, w: sidebar_w, h: page.height - top, color: SIDEBAR_BG }];
            if i == 0 {
                draws.append(&mut header_draws);
            }
            draws.extend(side.next().unwrap_or_default());
            draws.extend(main.next().unwrap_or_default());
            let mut footer = format!("{} · {} / {}", c.name, i + 1, total);
            if let Some(updated) = &c.last_updated {
                footer = format!("Updated {updated} · {footer}");
            }
            for row in ts.paragraph(&[ts.span(&footer, SMALL)], mx, mw, Align::Right, 1.0) {
                draws.extend(row.draws.into_iter().map(|d| d.moved_down(page.height - 28.0)));
            }
            draws
        })
        .collect()
}

fn main_blocks(c: &Content, ts: &Typesetter<'_>, x: f32, w: f32) -> Vec<Block> {
    let mut blocks = Vec::new();
    if !c.summary.is_empty() {
        blocks.push(heading(ts, "Profile", x, w));
        for (i, p) in c.summary.iter().enumerate() {
            blocks.push(Block {
                rows: ts.paragraph(&[ts.span(p, BODY)], x, w, Align::Left, LINE),
                space_before: if i == 0 { 0.0 } else { 5.0 },
                ..Block::default()
            });
        }
    }
    for section in &c.sections {
        blocks.push(heading(ts, section.title, x, w));
        for (i, e) in section.entries.iter().enumerate() {
            let mut b = entry(ts, e, x, w);
            if i == 0 {
                b.space_before = 0.0;
            }
            blocks.push(b);
        }
    }
    if let Some(first) = blocks.first_mut() {
        first.space_before = 0.0;
    }
    blocks
}

/// An upper-case section title over a hairline.
fn heading(ts: &Typesetter<'_>, title: &str, x: f32, w: f32) -> Block {
    let mut rows = ts.paragraph(&[ts.span(&title.to_uppercase(), HEADING)], x, w, Align::Left, 1.4);
    rows.push(Row { height: 6.0, draws: vec![Draw::Rect { x, y: 0.0, w, h: 0.6, color: RULE }] });
    Block { rows, space_before: 14.0, keep_with_next: true, ..Block::default() }
}

fn entry(ts: &Typesetter<'_>, e: &Entry, x: f32, w: f32) -> Block {
    let (lead, second, lead_is_title) = if e.role_first && e.subtitle.is_some() {
        (&e.subtitle, &e.title, false)
    } else {
        (&e.title, &e.subtitle, true)
    };
    let date_w = e.date.as_deref().map_or(0.0, |d| ts.width(&ts.fonts.clean(d), DATE).min(130.0));
    let lead_w = if date_w > 0.0 { w - date_w - 12.0 } else { w };

    let mut rows = Vec::new();
    if let Some(lead) = lead {
        let span = match (&e.url, lead_is_title) {
            (Some(uri), true) => ts.link(lead, BOLD.with_size(10.2), uri),
            _ => ts.span(lead, BOLD.with_size(10.2)),
        };
        let lead_rows = ts.paragraph(&[span], x, lead_w, Align::Left, LINE);
        let date_rows = e
            .date
            .as_deref()
            .map(|d| ts.paragraph(&[ts.span(d, DATE)], x + w - date_w, date_w, Align::Right, LINE * 10.2 / DATE.size))
            .unwrap_or_default();
        rows.extend(side_by_side(lead_rows, date_rows));
    } else if let Some(d) = &e.date {
        rows.extend(ts.paragraph(&[ts.span(d, DATE)], x, w, Align::Left, LINE));
    }

    let mut sub = Vec::new();
    if let Some(s) = second {
        let style = BODY.with_color(ACCENT);
        sub.push(match (&e.url, !lead_is_title) {
            (Some(uri), true) => ts.link(s, style, uri),
            _ => ts.span(s, style),
        });
    }
    if let Some(loc) = &e.location {
        let sep = if sub.is_empty() { "" } else { "  ·  " };
        sub.push(ts.span(&format!("{sep}{loc}"), BODY.with_color(MUTED)));
    }
    rows.extend(ts.paragraph(&sub, x, w, Align::Left, LINE));
    for p in &e.summary {
        rows.extend(ts.paragraph(&[ts.span(p, BODY)], x, w, Align::Left, LINE));
    }
    for b in &e.bullets {
        let mut lines = ts.paragraph(&[ts.span(b, BODY)], x + BULLET_INDENT, w - BULLET_INDENT, Align::Left, LINE);
        if let Some(first) = lines.first_mut() {
            let baseline = (first.height + 0.71 * BODY.size) / 2.0;
            first
                .draws
                .insert(0, Draw::Text { x: x + 1.5, y: baseline, text: "•".into(), style: BODY.with_color(ACCENT) });
        }
        rows.extend(lines);
    }
    if !e.tags.is_empty() {
        rows.extend(ts.paragraph(
            &[ts.span(&e.tags.join(" · "), BODY.with_face(Face::Italic).with_color(MUTED))],
            x,
            w,
            Align::Left,
            LINE,
        ));
    }
    Block { rows, space_before: 9.0, keep_together: true, ..Block::default() }
}

/// The sidebar's one font size (see the module docs on reading order).
const SB_SIZE: f32 = 9.0;
const SB_ROW: f32 = 1.17 * SB_SIZE;
/// The most extra space allowed between two sidebar lines (pitch ≤ 1.48 em; poppler's limit
/// is 1.5).
const SB_MAX_EXTRA: f32 = 1.48 * SB_SIZE - SB_ROW;

fn sb_rows(ts: &Typesetter<'_>, spans: &[super::layout::Span], x: f32, w: f32, align: Align) -> Vec<Row> {
    ts.paragraph(spans, x, w, align, SB_ROW / SB_SIZE)
}

fn sidebar_blocks(c: &Content, ts: &Typesetter<'_>, x: f32, w: f32) -> Vec<Block> {
    let mut blocks = Vec::new();
    if !c.contacts.is_empty() {
        blocks.push(sb_heading(ts, "Contact", x, w, true));
        for contact in &c.contacts {
            let span = match &contact.uri {
                Some(uri) => ts.link(&contact.text, SB_LINK, uri),
                None => ts.span(&contact.text, SB_BODY),
            };
            blocks.push(Block {
                rows: sb_rows(ts, &[span], x, w, Align::Left),
                space_before: 0.6,
                keep_together: true,
                ..Block::default()
            });
        }
    }
    if !c.skills.is_empty() {
        blocks.push(sb_heading(ts, "Skills", x, w, blocks.is_empty()));
        for s in &c.skills {
            blocks.push(labelled(ts, s, x, w));
        }
    }
    if !c.languages.is_empty() {
        blocks.push(sb_heading(ts, "Languages", x, w, blocks.is_empty()));
        for l in &c.languages {
            blocks.push(labelled(ts, l, x, w));
        }
    }
    if !c.interests.is_empty() {
        blocks.push(sb_heading(ts, "Interests", x, w, blocks.is_empty()));
        for i in &c.interests {
            blocks.push(labelled(ts, i, x, w));
        }
    }
    if let Some(first) = blocks.first_mut() {
        first.space_before = 0.0;
    }
    blocks
}

/// An upper-case accent title; all but the first get a hairline above, in the gap.
fn sb_heading(ts: &Typesetter<'_>, title: &str, x: f32, w: f32, first: bool) -> Block {
    let mut rows = sb_rows(ts, &[ts.span(&title.to_uppercase(), SB_HEADING)], x, w, Align::Left);
    if let Some(row) = rows.first_mut()
        && !first
    {
        // Midway between the descenders of the line above and this line's capitals.
        let baseline = (row.height + 0.71 * SB_SIZE) / 2.0;
        let cap_top = baseline - 0.71 * SB_SIZE;
        let above = baseline - SB_ROW - SB_MAX_EXTRA + 0.293 * SB_SIZE;
        row.draws.push(Draw::Rect { x, y: (cap_top + above) / 2.0 - 0.3, w, h: 0.6, color: SB_RULE });
    }
    Block { rows, space_before: SB_MAX_EXTRA, keep_with_next: true, ..Block::default() }
}

/// A skill, language or interest: the name in bold, its level on the right, keywords under it.
fn labelled(ts: &Typesetter<'_>, item: &Item, x: f32, w: f32) -> Block {
    let level_w =
        item.level.as_deref().map_or(0.0, |v| ts.width(&ts.fonts.clean(v.trim()), SB_MUTED_STYLE).min(w * 0.5) + 0.5);
    let name_w = if level_w > 0.0 { w - level_w - 6.0 } else { w };
    let name = sb_rows(ts, &[ts.span(&item.label, SB_BOLD)], x, name_w, Align::Left);
    let level = item
        .level
        .as_deref()
        .map(|v| sb_rows(ts, &[ts.span(v.trim(), SB_MUTED_STYLE)], x + w - level_w, level_w, Align::Right))
        .unwrap_or_default();
    let mut rows = side_by_side(name, level);
    if let Some(d) = &item.detail {
        rows.extend(sb_rows(ts, &[ts.span(d, SB_MUTED_STYLE)], x, w, Align::Left));
    }
    Block { rows, space_before: SB_MAX_EXTRA - 0.2, keep_together: true, ..Block::default() }
}
