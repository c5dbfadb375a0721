//! The fonts shipped with the crate (Noto Sans Regular, Bold, Italic — SIL OFL 1.1, see
//! `jobs/fonts/OFL.txt`) and their metrics.
//!
//! The TTF files are compiled in with `include_bytes!`. They are parsed once per process (a
//! few milliseconds); every render then clones the parsed faces (reference-counted, cheap)
//! into its `PdfDocument`, and printpdf embeds only the glyphs a CV uses.
//!
//! Widths come from the fonts' `hmtx` tables through `ttf-parser`, looked up in a dense
//! per-face table over the Basic Multilingual Plane, so measuring a line costs one array
//! read per character. These are the same advances the PDF's `/W` array carries, which is
//! what makes measured wrapping and right alignment exact.

use std::sync::OnceLock;

use printpdf::{FontId, ParsedFont};
use unicode_normalization::UnicodeNormalization;

/// One of the shipped faces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Face {
    Regular,
    Bold,
    Italic,
}

impl Face {
    pub(crate) const ALL: [Face; 3] = [Face::Regular, Face::Bold, Face::Italic];

    fn index(self) -> usize {
        match self {
            Face::Regular => 0,
            Face::Bold => 1,
            Face::Italic => 2,
        }
    }

    /// The PDF resource name. Its first six letters become the subset tag
    /// (`NSREGU+NotoSans-Regular`), which must be six upper-case letters.
    pub(crate) fn resource_id(self) -> FontId {
        FontId(
            match self {
                Face::Regular => "NSREGU",
                Face::Bold => "NSBOLD",
                Face::Italic => "NSITAL",
            }
            .to_string(),
        )
    }

    fn bytes(self) -> &'static [u8] {
        match self {
            Face::Regular => include_bytes!("../../fonts/NotoSans-Regular.ttf"),
            Face::Bold => include_bytes!("../../fonts/NotoSans-Bold.ttf"),
            Face::Italic => include_bytes!("../../fonts/NotoSans-Italic.ttf"),
        }
    }
}

/// Advance widths of one face, in em, for every BMP code point (`NaN`: no glyph).
pub(crate) struct Metrics {
    advances: Box<[f32]>,
}

impl Metrics {
    fn load(bytes: &[u8]) -> Result<Metrics, String> {
        let face = ttf_parser::Face::parse(bytes, 0).map_err(|e| e.to_string())?;
        let upem = f32::from(face.units_per_em());
        let mut advances = vec![f32::NAN; 0x1_0000].into_boxed_slice();
        if let Some(cmap) = face.tables().cmap {
            for subtable in cmap.subtables {
                if !subtable.is_unicode() {
                    continue;
                }
                subtable.codepoints(|cp| {
                    let (Ok(i), Some(c)) = (usize::try_from(cp), char::from_u32(cp)) else {
                        return;
                    };
                    if i >= advances.len() || !advances[i].is_nan() {
                        return;
                    }
                    if let Some(gid) = face.glyph_index(c)
                        && gid.0 != 0
                    {
                        let adv = face.glyph_hor_advance(gid).unwrap_or(0);
                        advances[i] = f32::from(adv) / upem;
                    }
                });
            }
        }
        Ok(Metrics { advances })
    }

    /// Advance of `c` in em, `None` when the face has no glyph for it.
    pub(crate) fn advance(&self, c: char) -> Option<f32> {
        let a = *self.advances.get(c as usize)?;
        (!a.is_nan()).then_some(a)
    }

    /// Width of `text` at `size` points. Characters without a glyph count as `?`
    /// (see [`FontSet::clean`], which replaces them before anything is drawn).
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        let fallback = self.advance('?').unwrap_or(0.5);
        text.chars().map(|c| self.advance(c).unwrap_or(fallback)).sum::<f32>() * size
    }
}

/// The parsed faces, loaded once per process.
pub(crate) struct FontSet {
    parsed: Vec<ParsedFont>,
    metrics: Vec<Metrics>,
}

static FONTS: OnceLock<Result<FontSet, String>> = OnceLock::new();

impl FontSet {
    /// The shipped fonts; parsed on first use.
    pub(crate) fn get() -> Result<&'static FontSet, String> {
        FONTS.get_or_init(FontSet::load).as_ref().map_err(Clone::clone)
    }

    fn load() -> Result<FontSet, String> {
        let mut parsed = Vec::new();
        let mut metrics = Vec::new();
        for face in Face::ALL {
            let mut warnings = Vec::new();
            let font = ParsedFont::from_bytes(face.bytes(), 0, &mut warnings)
                .ok_or_else(|| format!("cannot parse the shipped {face:?} font"))?;
            parsed.push(font);
            metrics.push(
                Metrics::load(face.bytes()).map_err(|e| format!("cannot read the {face:?} font's metrics: {e}"))?,
            );
        }
        Ok(FontSet { parsed, metrics })
    }

    pub(crate) fn parsed(&self, face: Face) -> &ParsedFont {
        &self.parsed[face.index()]
    }

    pub(crate) fn metrics(&self, face: Face) -> &Metrics {
        &self.metrics[face.index()]
    }

    /// Text as it will be drawn: NFC-normalised (so `e` + combining diaeresis becomes one
    /// `ë` glyph), whitespace runs collapsed to one space (no-break spaces kept; callers trim user input), control
    /// characters dropped, and characters the fonts cannot draw replaced by `?` rather
    /// than left to render as empty boxes.
    pub(crate) fn clean(&self, text: &str) -> String {
        let regular = self.metrics(Face::Regular);
        let mut out = String::with_capacity(text.len());
        let mut pending_space = false;
        for c in text.nfc() {
            match c {
                '\u{00AD}' | '\u{200B}' | '\u{FEFF}' => continue,
                c if c.is_whitespace() && c != '\u{00A0}' => {
                    pending_space = true;
                    continue;
                }
                c if c.is_control() => continue,
                _ => {}
            }
            if pending_space {
                out.push(' ');
            }
            pending_space = false;
            out.push(if regular.advance(c).is_some() { c } else { '?' });
        }
        if pending_space {
            out.push(' ');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fonts_cover_latin_greek_cyrillic() {
        let fonts = FontSet::get().expect("fonts");
        for face in Face::ALL {
            let m = fonts.metrics(face);
            for c in "Zoë Łukasiewicz-Ødegård Дмитрий Ελληνικά ß€–—•·’“”".chars() {
                assert!(m.advance(c).is_some(), "{face:?} lacks {c:?}");
            }
            assert!(m.width("Hello", 10.0) > 20.0);
        }
    }

    #[test]
    fn clean_normalises_and_replaces() {
        let fonts = FontSet::get().expect("fonts");
        assert_eq!(fonts.clean("  Zoe\u{0308}\n\tL  "), " Zoë L ");
        assert_eq!(fonts.clean("a\u{00A0}b\u{00AD}c"), "a\u{00A0}bc");
        assert_eq!(fonts.clean("漢字"), "??");
    }
}
