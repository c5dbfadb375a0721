//! The PDF renderer: a [`CvDocument`] and a [`Template`] in, PDF bytes out.
//!
//! How a render goes:
//! 1. `content` turns the document into entries and contacts (safe link targets only);
//! 2. the template ([`Template::Classic`] or [`Template::Modern`]) lays them out with the
//!    `layout` engine — text measured with the shipped fonts' glyph advances, wrapped,
//!    entries kept together, headings kept with what follows — and paginates;
//! 3. footers ("N / M") are added once the page count is known;
//! 4. the pages become printpdf operations; printpdf embeds *subsets* of the fonts
//!    (`text_layout` feature) with a `/ToUnicode` map, so text is selectable and extractable;
//! 5. the document information (Title "NAME — CV", Author, Creator `cv-worker`, dates from
//!    `meta.lastModified`) and the file ID are set here, from the document only, so the
//!    same input always gives the same bytes.
//!
//! Everything printpdf would otherwise randomise (resource names, the trailer `/ID`) or
//! take from defaults (1970 dates, visible link borders, a PDF/X claim) is overridden.

mod classic;
mod content;
mod fonts;
mod layout;
mod modern;

use std::fmt;
use std::str::FromStr;

use lopdf::{Object, StringFormat};
use printpdf::{
    Actions, BorderArray, ColorArray, Mm, Op, PaintMode, PdfDocument, PdfFont, PdfFontHandle, PdfPage,
    PdfParseErrorSeverity, PdfSaveOptions, Pt, Rect, TextItem, TextMatrix,
};

use crate::document::{CvDocument, PageSize, PartialDate};
use fonts::{Face, FontSet};
use layout::{Draw, Rgb, Typesetter};

/// The CV designs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Template {
    /// One column, centred header, section titles with a rule.
    #[default]
    Classic,
    /// A name band across the top, a sidebar (contact, skills, languages, interests) beside
    /// the main column.
    Modern,
}

impl Template {
    /// All templates, in the order they are listed to users.
    pub const ALL: [Template; 2] = [Template::Classic, Template::Modern];

    /// The name used in jobs and in `cvs.template` (`classic`, `modern`).
    pub fn name(self) -> &'static str {
        match self {
            Template::Classic => "classic",
            Template::Modern => "modern",
        }
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A template name that is not one of [`Template::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown template {name:?}; known templates: classic, modern")]
pub struct UnknownTemplate {
    pub name: String,
}

impl FromStr for Template {
    type Err = UnknownTemplate;

    /// Case-insensitive; surrounding whitespace is ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Template::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownTemplate { name: s.to_string() })
    }
}

/// A rendered CV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedPdf {
    /// The PDF file.
    pub bytes: Vec<u8>,
    /// Number of pages.
    pub pages: u32,
}

/// Why a render failed. Neither happens with a valid build; both are reported rather than
/// panicking.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The fonts compiled into the crate could not be parsed.
    #[error("cannot load the embedded fonts: {0}")]
    Fonts(String),
    /// printpdf or lopdf reported an error while writing the file.
    #[error("cannot write the PDF: {0}")]
    Write(String),
}

/// Page size in points.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageGeometry {
    pub width: f32,
    pub height: f32,
}

impl PageGeometry {
    fn for_size(size: PageSize) -> PageGeometry {
        match size {
            PageSize::A4 => PageGeometry { width: 595.28, height: 841.89 },
            PageSize::Letter => PageGeometry { width: 612.0, height: 792.0 },
        }
    }
}

/// Parses the embedded fonts now (~10 ms, once per process) instead of during the first
/// render. Optional: call it at start-up so the first job is not slower than the rest.
pub fn warm_up() -> Result<(), RenderError> {
    FontSet::get().map(|_| ()).map_err(RenderError::Fonts)
}

/// Renders `doc` with `template`. The same document and template always give the same
/// bytes: the PDF's dates come from `meta.lastModified` (omitted when it is absent), never
/// from the clock.
pub fn render(doc: &CvDocument, template: Template) -> Result<RenderedPdf, RenderError> {
    let fonts = FontSet::get().map_err(RenderError::Fonts)?;
    let ts = Typesetter::new(fonts);
    let content = content::Content::from_document(doc);
    let geometry = PageGeometry::for_size(doc.meta.page_size);
    let pages = match template {
        Template::Classic => classic::layout(&content, &ts, geometry),
        Template::Modern => modern::layout(&content, &ts, geometry),
    };
    let bytes = write_pdf(doc, template, geometry, &pages, fonts)?;
    Ok(RenderedPdf { bytes, pages: u32::try_from(pages.len()).unwrap_or(u32::MAX) })
}

fn write_pdf(
    doc: &CvDocument,
    template: Template,
    geometry: PageGeometry,
    pages: &[Vec<Draw>],
    fonts: &FontSet,
) -> Result<Vec<u8>, RenderError> {
    let mut pdf = PdfDocument::new("");
    for face in Face::ALL {
        pdf.resources.fonts.map.insert(face.resource_id(), PdfFont::new(fonts.parsed(face).clone()));
    }
    let w = Mm::from(Pt(geometry.width));
    let h = Mm::from(Pt(geometry.height));
    pdf.pages = pages
        .iter()
        .map(|draws| {
            let mut page = PdfPage::new(w, h, page_ops(draws, geometry.height));
            let bx = Rect::from_wh(Pt(geometry.width), Pt(geometry.height));
            page.media_box = bx.clone();
            page.trim_box = bx.clone();
            page.crop_box = bx;
            page
        })
        .collect();

    let opts = PdfSaveOptions { optimize: true, subset_fonts: true, secure: true, image_optimization: None };
    let mut warnings = Vec::new();
    let mut lo = pdf.to_lopdf_document(&opts, &mut warnings);
    if let Some(e) = warnings.iter().find(|w| w.severity == PdfParseErrorSeverity::Error) {
        return Err(RenderError::Write(e.msg.clone()));
    }

    // Document information, from the document only.
    let name = doc.name();
    let mut info = lopdf::Dictionary::new();
    info.set(
        "Title",
        text_string(&match name {
            Some(n) => format!("{n} — CV"),
            None => "CV".to_string(),
        }),
    );
    if let Some(n) = name {
        info.set("Author", text_string(n));
    }
    if let Some(label) = doc.basics.label.as_deref().map(str::trim)
        && !label.is_empty()
    {
        info.set("Subject", text_string(label));
    }
    info.set("Creator", text_string("cv-worker"));
    info.set("Producer", text_string(concat!("cv-jobs ", env!("CARGO_PKG_VERSION"), " (printpdf 0.12.8)")));
    if let Some(date) = doc.meta.last_modified.as_deref().and_then(pdf_date) {
        info.set("CreationDate", Object::string_literal(date.clone()));
        info.set("ModDate", Object::string_literal(date));
    }
    let info_id = lo.add_object(Object::Dictionary(info));
    lo.trailer.set("Info", Object::Reference(info_id));

    // A file identifier derived from what is drawn (printpdf would make a random one).
    let id = Object::String(fingerprint(template, pages).to_vec(), StringFormat::Hexadecimal);
    lo.trailer.set("ID", Object::Array(vec![id.clone(), id]));
    lo.prune_objects();
    lo.renumber_objects();

    compress_streams(&mut lo)?;
    let mut out = Vec::with_capacity(48 * 1024);
    lo.save_to(&mut out).map_err(|e| RenderError::Write(e.to_string()))?;
    Ok(out)
}

/// Deflates every stream that allows it. lopdf's own `compress` uses the slowest zlib level
/// and a fresh compressor (a few hundred KB to allocate and clear) per stream, which together
/// cost about half of a render. Here one compressor is reset between streams, at level 3:
/// ~2% more bytes than level 9 for a much faster render.
fn compress_streams(doc: &mut lopdf::Document) -> Result<(), RenderError> {
    use flate2::{Compress, Compression, FlushCompress, Status};

    let mut z = Compress::new(Compression::new(3), true);
    for object in doc.objects.values_mut() {
        let Object::Stream(stream) = object else {
            continue;
        };
        if !stream.allows_compression || stream.dict.get(b"Filter").is_ok() {
            continue;
        }
        z.reset();
        let input = &stream.content;
        let mut out = Vec::with_capacity(input.len() / 2 + 64);
        loop {
            let consumed = usize::try_from(z.total_in()).unwrap_or(usize::MAX);
            let rest = input.get(consumed..).unwrap_or_default();
            let status =
                z.compress_vec(rest, &mut out, FlushCompress::Finish).map_err(|e| RenderError::Write(e.to_string()))?;
            match status {
                Status::StreamEnd => break,
                Status::Ok | Status::BufError => out.reserve(out.capacity().max(4096)),
            }
        }
        if out.len() + 19 < input.len() {
            stream.dict.set("Filter", "FlateDecode");
            stream.set_content(out);
        }
    }
    Ok(())
}

/// A PDF text string: PDFDocEncoding is not enough for "Zoë Łukasiewicz", so UTF-16BE with BOM.
fn text_string(s: &str) -> Object {
    let mut bytes = vec![0xFE, 0xFF];
    for unit in s.encode_utf16() {
        bytes.extend_from_slice(&unit.to_be_bytes());
    }
    Object::String(bytes, StringFormat::Hexadecimal)
}

/// An ISO 8601 date or date-time as a PDF date (`D:20261127103000Z`, `D:20261127`).
fn pdf_date(iso: &str) -> Option<String> {
    let iso = iso.trim();
    let date = PartialDate::parse(iso)?;
    let mut out = format!("D:{:04}", date.year);
    let (Some(month), Some(day)) = (date.month, date.day) else {
        if let Some(m) = date.month {
            out.push_str(&format!("{m:02}"));
        }
        return Some(out);
    };
    out.push_str(&format!("{month:02}{day:02}"));
    let Some(time) = iso.get(11..).filter(|_| iso.len() > 10) else {
        return Some(out);
    };
    // HH:MM[:SS[.fff]][Z|±HH[:MM]]
    let b = time.as_bytes();
    let two = |i: usize| -> Option<u8> {
        let d = b.get(i..i + 2)?;
        d.iter().all(u8::is_ascii_digit).then(|| (d[0] - b'0') * 10 + (d[1] - b'0'))
    };
    let (hh, mm) = (two(0)?, two(3)?);
    if b.get(2) != Some(&b':') || hh > 23 || mm > 59 {
        return Some(out);
    }
    let mut i = 5;
    let mut ss = 0;
    if b.get(5) == Some(&b':') {
        ss = two(6).filter(|s| *s <= 60)?;
        i = 8;
        if b.get(8) == Some(&b'.') {
            i = 9;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
    }
    out.push_str(&format!("{hh:02}{mm:02}{ss:02}"));
    match b.get(i) {
        Some(b'Z') | Some(b'z') => out.push('Z'),
        Some(&sign @ (b'+' | b'-')) => {
            let oh = two(i + 1)?;
            let om = if b.get(i + 3) == Some(&b':') { two(i + 4) } else { two(i + 3) }.unwrap_or(0);
            out.push_str(&format!("{}{oh:02}'{om:02}'", sign as char));
        }
        _ => {}
    }
    Some(out)
}

/// 16 bytes that change when anything drawn changes (two FNV-1a-64 streams).
fn fingerprint(template: Template, pages: &[Vec<Draw>]) -> [u8; 16] {
    struct Fnv(u64, u64);
    impl Fnv {
        fn write(&mut self, bytes: &[u8]) {
            for &b in bytes {
                self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
                self.1 = (self.1 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3 ^ 0x5bd1e995);
            }
        }
        fn f(&mut self, v: f32) {
            self.write(&v.to_bits().to_le_bytes());
        }
    }
    let mut h = Fnv(0xcbf2_9ce4_8422_2325, 0x8422_2325_cbf2_9ce4);
    h.write(template.name().as_bytes());
    for (n, page) in pages.iter().enumerate() {
        h.write(&(n as u64).to_le_bytes());
        for d in page {
            match d {
                Draw::Text { x, y, text, style } => {
                    h.write(b"T");
                    h.f(*x);
                    h.f(*y);
                    h.f(style.size);
                    h.write(text.as_bytes());
                }
                Draw::Rect { x, y, w, h: hh, .. } => {
                    h.write(b"R");
                    for v in [x, y, w, hh] {
                        h.f(*v);
                    }
                }
                Draw::Link { uri, .. } => {
                    h.write(b"L");
                    h.write(uri.as_bytes());
                }
            }
        }
    }
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&h.0.to_be_bytes());
    out[8..].copy_from_slice(&h.1.to_be_bytes());
    out
}

/// Rounds to 1/100 pt: plenty for print, and keeps content streams short.
fn r(v: f32) -> Pt {
    Pt((v * 100.0).round() / 100.0)
}

fn color(c: Rgb) -> printpdf::Color {
    printpdf::Color::Rgb(printpdf::Rgb::new(c.0, c.1, c.2, None))
}

/// One page's draws as printpdf operations: rectangles first (they are backgrounds and
/// rules), then all text in one text object, then the link annotations.
fn page_ops(draws: &[Draw], page_height: f32) -> Vec<Op> {
    let mut ops = Vec::with_capacity(draws.len() * 3 + 4);
    let mut fill: Option<Rgb> = None;
    let mut set_fill = |ops: &mut Vec<Op>, c: Rgb| {
        if fill != Some(c) {
            ops.push(Op::SetFillColor { col: color(c) });
            fill = Some(c);
        }
    };
    for d in draws {
        if let Draw::Rect { x, y, w, h, color } = d {
            set_fill(&mut ops, *color);
            ops.push(Op::DrawRectangle {
                rectangle: Rect {
                    x: r(*x),
                    y: r(page_height - y - h),
                    width: r(*w),
                    height: r(*h),
                    mode: Some(PaintMode::Fill),
                    winding_order: None,
                },
            });
        }
    }
    ops.push(Op::StartTextSection);
    let mut font: Option<(Face, f32)> = None;
    for d in draws {
        if let Draw::Text { x, y, text, style } = d {
            if font != Some((style.face, style.size)) {
                ops.push(Op::SetFont { font: PdfFontHandle::External(style.face.resource_id()), size: r(style.size) });
                font = Some((style.face, style.size));
            }
            set_fill(&mut ops, style.color);
            ops.push(Op::SetTextMatrix { matrix: TextMatrix::Translate(r(*x), r(page_height - y)) });
            ops.push(Op::ShowText { items: vec![TextItem::Text(text.clone())] });
        }
    }
    ops.push(Op::EndTextSection);
    for d in draws {
        if let Draw::Link { x, y, w, h, uri } = d {
            ops.push(Op::LinkAnnotation {
                link: printpdf::LinkAnnotation::new(
                    Rect {
                        x: r(*x),
                        y: r(page_height - y - h),
                        width: r(*w),
                        height: r(*h),
                        mode: None,
                        winding_order: None,
                    },
                    Actions::uri(uri.clone()),
                    Some(BorderArray::Solid([0.0, 0.0, 0.0])),
                    Some(ColorArray::Transparent),
                    None,
                ),
            });
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_names() {
        assert_eq!("classic".parse::<Template>(), Ok(Template::Classic));
        assert_eq!(" Modern ".parse::<Template>(), Ok(Template::Modern));
        let err = "fancy".parse::<Template>().expect_err("unknown");
        assert_eq!(err.to_string(), "unknown template \"fancy\"; known templates: classic, modern");
    }

    #[test]
    fn pdf_dates() {
        assert_eq!(pdf_date("2026-11-27T10:30:00Z").as_deref(), Some("D:20261127103000Z"));
        assert_eq!(pdf_date("2026-11-27T10:30:15.123+02:00").as_deref(), Some("D:20261127103015+02'00'"));
        assert_eq!(pdf_date("2026-11-27 10:30").as_deref(), Some("D:20261127103000"));
        assert_eq!(pdf_date("2026-11-27").as_deref(), Some("D:20261127"));
        assert_eq!(pdf_date("2026-11").as_deref(), Some("D:202611"));
        assert_eq!(pdf_date("yesterday"), None);
    }
}
