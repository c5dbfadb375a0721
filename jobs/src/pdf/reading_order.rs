//! Keeping a two-column page in reading order for text extractors.
//!
//! ATS parsers and `pdftotext` do not read a PDF in content-stream order; poppler (behind
//! `pdftotext`, and the model many extractors follow) groups words into blocks and sorts the
//! blocks with Breuel's rules: left column before right column. One heuristic breaks this for
//! a sidebar layout: when two consecutive sidebar blocks happen to line up (tops, bottoms or
//! centres within half a font size) with two main-column blocks, poppler takes the four for a
//! *table*, reads it row by row, and from then on interleaves the columns
//! ("CONTACT / PROFILE / LOCATION / Backend engineer…").
//!
//! [`find_table`] replays poppler's block building and table test (TextOutputDev.cc,
//! `TextPage::coalesce`) on what a page draws; the modern template moves the sidebar block it
//! names a few points down and lays out again until no such table is left.

use super::fonts::FontSet;
use super::layout::Draw;

/// Poppler's constants (TextOutputDev.cc).
const MAX_LINE_SPACING_DELTA: f32 = 1.5;
const MAX_BLOCK_FONT_SIZE_DELTA1: f32 = 0.05;
const MAX_BLOCK_FONT_SIZE_DELTA2: f32 = 0.6;
const MAX_INTRA_LINE_DELTA: f32 = 0.5;
const MIN_COL_SPACING1: f32 = 0.3;
const TEXT_POOL_STEP: f32 = 4.0;
/// Noto Sans' ascent and descent (em), which poppler uses for word boxes.
const ASCENT: f32 = 1.069;
const DESCENT: f32 = 0.293;

/// A drawn run of text as poppler sees it, tagged with where it came from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TextBox {
    pub x0: f32,
    pub x1: f32,
    pub base: f32,
    pub size: f32,
    /// The caller's tag (for the sidebar: the index of the flow block it belongs to).
    pub tag: usize,
}

impl TextBox {
    fn y0(&self) -> f32 {
        self.base - ASCENT * self.size
    }
    fn y1(&self) -> f32 {
        self.base + DESCENT * self.size
    }
}

/// The boxes of the text draws among `draws` (each with its tag).
pub(crate) fn boxes(fonts: &FontSet, draws: &[(usize, Draw)]) -> Vec<TextBox> {
    draws
        .iter()
        .filter_map(|(tag, d)| match d {
            Draw::Text { x, y, text, style } => {
                let trimmed = text.trim_end();
                if trimmed.trim_start().is_empty() {
                    return None;
                }
                let metrics = fonts.metrics(style.face);
                let lead = text.len() - text.trim_start().len();
                Some(TextBox {
                    x0: x + metrics.width(&text[..lead], style.size),
                    x1: x + metrics.width(trimmed, style.size),
                    base: *y,
                    size: style.size,
                    tag: *tag,
                })
            }
            _ => None,
        })
        .collect()
}

#[derive(Debug, Clone)]
struct Block {
    x0: f32,
    x1: f32,
    y0: f32,
    y1: f32,
    size: f32,
    /// Tag of the block's top-left box.
    tag: usize,
}

fn overlaps(a0: f32, a1: f32, b0: f32, b1: f32) -> bool {
    a0 <= b1 && a1 >= b0
}

/// Poppler's block building, without the rarely relevant "outlying words" pass.
fn build_blocks(mut words: Vec<TextBox>) -> Vec<Block> {
    words.sort_by(|a, b| a.base.total_cmp(&b.base).then(a.x0.total_cmp(&b.x0)));
    let mut blocks = Vec::new();
    while let Some(top) = words.first().map(|w| w.base) {
        // The left-most word in the first four pool lines.
        let start = (0..words.len())
            .filter(|&i| words[i].base < top + 4.0 * TEXT_POOL_STEP)
            .min_by(|&a, &b| words[a].x0.total_cmp(&words[b].x0))
            .unwrap_or(0);
        let w = words.remove(start);
        let size = w.size;
        let (mut min_base, mut max_base) = (w.base, w.base);
        let mut blk = Block {
            x0: w.x0,
            x1: w.x1,
            y0: w.y0(),
            y1: w.y1(),
            size,
            tag: w.tag,
        };
        let mut top_left = (w.base, w.x0);
        let line_space = MAX_LINE_SPACING_DELTA * size;
        let intra = MAX_INTRA_LINE_DELTA * size;
        let col_space = MIN_COL_SPACING1 * size;
        loop {
            let mut found = false;
            let mut i = 0;
            while i < words.len() {
                let c = words[i];
                let same_size = (c.size - size).abs() < MAX_BLOCK_FONT_SIZE_DELTA1 * size;
                let above = c.base < min_base && c.base >= min_base - line_space;
                let below = c.base > max_base && c.base <= max_base + line_space;
                let x_in = c.x0 < blk.x1 && c.x1 > blk.x0;
                let on_lines = c.base >= min_base - intra
                    && c.base <= max_base + intra
                    && c.x0 < blk.x1 + col_space
                    && c.x1 > blk.x0 - col_space
                    && (c.size - size).abs() < MAX_BLOCK_FONT_SIZE_DELTA2 * size;
                if ((above || below) && x_in && same_size) || on_lines {
                    words.remove(i);
                    min_base = min_base.min(c.base);
                    max_base = max_base.max(c.base);
                    blk.x0 = blk.x0.min(c.x0);
                    blk.x1 = blk.x1.max(c.x1);
                    blk.y0 = blk.y0.min(c.y0());
                    blk.y1 = blk.y1.max(c.y1());
                    if (c.base, c.x0) < top_left {
                        top_left = (c.base, c.x0);
                        blk.tag = c.tag;
                    }
                    found = true;
                } else {
                    i += 1;
                }
            }
            if !found {
                break;
            }
        }
        blocks.push(blk);
    }
    blocks
}

/// If poppler would see a table made of two blocks left of `split` (the sidebar) and two
/// right of it, returns the tag of the lower sidebar block — the one to move.
pub(crate) fn find_table(words: Vec<TextBox>, split: f32) -> Option<usize> {
    let blocks = build_blocks(words);
    for b1 in &blocks {
        let (mut f2, mut f3, mut f4): (Option<&Block>, Option<&Block>, Option<&Block>) =
            (None, None, None);
        let (mut bx0, mut by0, mut bx1, mut by1) = (f32::MAX, f32::MAX, f32::MAX, f32::MAX);
        for b2 in &blocks {
            if std::ptr::eq(b1, b2) {
                continue;
            }
            if b2.y0 <= b1.y1 && b2.y1 >= b1.y0 && b2.x0 > b1.x1 && b2.x0 < bx0 {
                bx0 = b2.x0;
                f2 = Some(b2);
            } else if b2.x0 <= b1.x1 && b2.x1 >= b1.x0 && b2.y0 > b1.y1 && b2.y0 < by0 {
                by0 = b2.y0;
                f3 = Some(b2);
            } else if b2.x0 > b1.x1 && b2.x0 < bx1 && b2.y0 > b1.y1 && b2.y0 < by1 {
                bx1 = b2.x0;
                by1 = b2.y0;
                f4 = Some(b2);
            }
        }
        let (Some(f2), Some(f3), Some(f4)) = (f2, f3, f4) else {
            continue;
        };
        if overlaps(f3.x0, f3.x1, f4.x0, f4.x1)
            || overlaps(f2.y0, f2.y1, f4.y0, f4.y1)
            || overlaps(f2.x0, f2.x1, f3.x0, f3.x1)
            || overlaps(f2.y0, f2.y1, f3.y0, f3.y1)
            || !(overlaps(f4.x0, f4.x1, f2.x0, f2.x1) && overlaps(f4.y0, f4.y1, f3.y0, f3.y1))
        {
            continue;
        }
        let min_size = b1.size.min(f2.size).min(f3.size).min(f4.size);
        let (dx, dy) = (min_size * MIN_COL_SPACING1, min_size * MAX_INTRA_LINE_DELTA);
        let cx = |b: &Block| (b.x0 + b.x1) / 2.0;
        let cy = |b: &Block| (b.y0 + b.y1) / 2.0;
        let close = |a: f32, b: f32, d: f32| (a - b).abs() <= d;
        let aligned_x = (close(cx(b1), cx(f3), dx) && close(cx(f2), cx(f4), dx))
            || (close(b1.x0, f3.x0, dx) && close(f2.x0, f4.x0, dx))
            || (close(b1.x1, f3.x1, dx) && close(f2.x1, f4.x1, dx));
        let aligned_y = (close(cy(b1), cy(f2), dy) && close(cy(f3), cy(f4), dy))
            || (close(b1.y0, f2.y0, dy) && close(f3.y0, f4.y0, dy))
            || (close(b1.y1, f2.y1, dy) && close(f3.y1, f4.y1, dy));
        let crosses = b1.x1 <= split && f3.x1 <= split && f2.x0 >= split && f4.x0 >= split;
        if aligned_x && aligned_y && crosses {
            return Some(f3.tag);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(x0: f32, x1: f32, base: f32, size: f32, tag: usize) -> TextBox {
        TextBox {
            x0,
            x1,
            base,
            size,
            tag,
        }
    }

    #[test]
    fn aligned_pairs_across_columns_are_a_table() {
        // Sidebar: heading (9.6pt) over a label (7pt); main: heading over a paragraph,
        // tops aligned pairwise — what the first modern layouts produced.
        let words = vec![
            w(24.0, 70.0, 50.0, 9.6, 1),
            w(24.0, 50.0, 70.0, 7.0, 2),
            w(220.0, 280.0, 50.0, 10.8, 100),
            w(220.0, 550.0, 71.0, 9.6, 101),
            w(220.0, 540.0, 84.0, 9.6, 101),
        ];
        assert_eq!(find_table(words.clone(), 200.0), Some(2));
        // Move the sidebar label 10pt down: no table.
        let mut moved = words;
        moved[1].base += 10.0;
        assert_eq!(find_table(moved, 200.0), None);
    }

    #[test]
    fn lines_of_one_size_form_one_block() {
        let blocks = build_blocks(vec![
            w(24.0, 100.0, 50.0, 9.0, 1),
            w(24.0, 90.0, 62.0, 9.0, 2),
            w(24.0, 95.0, 74.0, 9.0, 3),
            w(24.0, 95.0, 120.0, 9.0, 4),
        ]);
        assert_eq!(blocks.len(), 2);
    }
}
