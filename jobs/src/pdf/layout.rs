//! A small layout engine: measured word wrap, rows, blocks and pagination.
//!
//! Templates describe a CV as a flow of [`Block`]s. A block is a list of [`Row`]s (one line
//! of text, possibly with a right-aligned column beside it) plus two rules: `keep_together`
//! (an entry moves to the next page whole rather than being split — unless it is taller
//! than a page, then it splits between rows, never inside one) and `keep_with_next` (a
//! section heading never ends a page). [`paginate`] turns the flow into pages of absolutely
//! positioned [`Draw`]s; only then are footers added, because "N / M" needs M.
//!
//! Coordinates are PDF points with y growing *downwards* from the top of the page; the
//! emitter flips them.

use super::fonts::{Face, FontSet};

/// An RGB colour, components 0–1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rgb(pub f32, pub f32, pub f32);

impl Rgb {
    /// `0xRRGGBB`.
    pub(crate) const fn hex(v: u32) -> Rgb {
        Rgb(((v >> 16) & 0xff) as f32 / 255.0, ((v >> 8) & 0xff) as f32 / 255.0, (v & 0xff) as f32 / 255.0)
    }
}

/// Font face, size (pt) and colour of a run of text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Style {
    pub face: Face,
    pub size: f32,
    pub color: Rgb,
}

impl Style {
    pub(crate) const fn new(face: Face, size: f32, color: Rgb) -> Style {
        Style { face, size, color }
    }
    pub(crate) const fn with_face(self, face: Face) -> Style {
        Style { face, ..self }
    }
    pub(crate) const fn with_color(self, color: Rgb) -> Style {
        Style { color, ..self }
    }
    pub(crate) const fn with_size(self, size: f32) -> Style {
        Style { size, ..self }
    }
}

/// A run of text in one style, optionally a link.
#[derive(Debug, Clone)]
pub(crate) struct Span {
    pub text: String,
    pub style: Style,
    pub link: Option<String>,
}

/// Something to draw, positioned relative to its row (inside a [`Row`]) or to the page
/// (after [`paginate`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Draw {
    /// Text with its baseline at `y`.
    Text { x: f32, y: f32, text: String, style: Style },
    /// A filled rectangle with its top-left corner at (`x`, `y`).
    Rect { x: f32, y: f32, w: f32, h: f32, color: Rgb },
    /// A clickable area (a link annotation, drawn without a border).
    Link { x: f32, y: f32, w: f32, h: f32, uri: String },
}

impl Draw {
    /// The same draw `dy` points lower.
    pub(crate) fn moved_down(mut self, dy: f32) -> Draw {
        match &mut self {
            Draw::Text { y, .. } | Draw::Rect { y, .. } | Draw::Link { y, .. } => *y += dy,
        }
        self
    }
}

/// One line of the flow: its height and what is drawn in it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Row {
    pub height: f32,
    pub draws: Vec<Draw>,
}

impl Row {
    /// An empty row, used for vertical space.
    pub(crate) fn gap(height: f32) -> Row {
        Row { height, draws: Vec::new() }
    }

    /// Puts `other`'s draws into this row (side-by-side columns); the taller height wins.
    pub(crate) fn merge(&mut self, other: Row) {
        self.height = self.height.max(other.height);
        self.draws.extend(other.draws);
    }
}

/// A unit of the flow (a heading, an entry, a paragraph).
#[derive(Debug, Clone, Default)]
pub(crate) struct Block {
    pub rows: Vec<Row>,
    pub space_before: f32,
    pub keep_together: bool,
    pub keep_with_next: bool,
}

impl Block {
    pub(crate) fn height(&self) -> f32 {
        self.rows.iter().map(|r| r.height).sum()
    }

    /// The height that must fit for the block to start on the current page.
    fn first_unit(&self) -> f32 {
        if self.keep_together { self.height() } else { self.rows.first().map_or(0.0, |r| r.height) }
    }
}

/// The vertical extent of a flow's frame on a page.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame {
    pub top: f32,
    pub bottom: f32,
}

/// Places the blocks on pages: `first` frame on page 1, `rest` on later pages.
/// Returns the draws of each page, in page coordinates.
pub(crate) fn paginate(blocks: &[Block], first: Frame, rest: Frame) -> Vec<Vec<Draw>> {
    let mut pages: Vec<Vec<Draw>> = vec![Vec::new()];
    let mut frame = first;
    let mut y = frame.top;
    let mut page_has_content = false;

    for (i, block) in blocks.iter().enumerate() {
        let mut space = if page_has_content { block.space_before } else { 0.0 };
        let mut need = block.first_unit();
        if block.keep_with_next
            && let Some(next) = blocks.get(i + 1)
        {
            need = block.height() + next.space_before + next.first_unit();
        }
        if page_has_content && y + space + need > frame.bottom {
            pages.push(Vec::new());
            frame = rest;
            y = frame.top;
            page_has_content = false;
            space = 0.0;
        }
        y += space;
        for row in &block.rows {
            if page_has_content && y + row.height > frame.bottom + 0.01 {
                pages.push(Vec::new());
                frame = rest;
                y = frame.top;
            }
            if let Some(page) = pages.last_mut() {
                page.extend(row.draws.iter().cloned().map(|d| d.moved_down(y)));
            }
            y += row.height;
            page_has_content = true;
        }
    }
    pages
}

/// Horizontal alignment of a paragraph's lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
    Center,
}

/// A wrapped line: fragments (offset from the line start, text, style, link) and its width.
#[derive(Debug, Clone, Default)]
pub(crate) struct Line {
    pub frags: Vec<Frag>,
    pub width: f32,
}

#[derive(Debug, Clone)]
pub(crate) struct Frag {
    pub dx: f32,
    pub width: f32,
    pub text: String,
    pub style: Style,
    pub link: Option<String>,
}

impl Line {
    fn max_size(&self) -> f32 {
        self.frags.iter().map(|f| f.style.size).fold(0.0, f32::max)
    }

    fn push(&mut self, span: &Span, text: &str, width: f32) {
        if let Some(last) = self.frags.last_mut()
            && last.style == span.style
            && last.link == span.link
        {
            last.text.push_str(text);
            last.width += width;
        } else {
            self.frags.push(Frag {
                dx: self.width,
                width,
                text: text.to_string(),
                style: span.style,
                link: span.link.clone(),
            });
        }
        self.width += width;
    }
}

/// Text measurement and wrapping over the shipped fonts.
pub(crate) struct Typesetter<'f> {
    pub fonts: &'f FontSet,
}

/// A word: its pieces (span index, text, width) and the space after it, if any.
struct Word {
    pieces: Vec<(usize, String, f32)>,
    width: f32,
    space_after: Option<(usize, f32)>,
}

impl<'f> Typesetter<'f> {
    pub(crate) fn new(fonts: &'f FontSet) -> Self {
        Typesetter { fonts }
    }

    /// A span of cleaned text (see `FontSet::clean`).
    pub(crate) fn span(&self, text: &str, style: Style) -> Span {
        Span { text: self.fonts.clean(text), style, link: None }
    }

    /// A span that is also a link to `uri`.
    pub(crate) fn link(&self, text: &str, style: Style, uri: &str) -> Span {
        Span { link: Some(uri.trim().to_string()), ..self.span(text, style) }
    }

    pub(crate) fn width(&self, text: &str, style: Style) -> f32 {
        self.fonts.metrics(style.face).width(text, style.size)
    }

    fn words(&self, spans: &[Span]) -> Vec<Word> {
        let mut words: Vec<Word> = Vec::new();
        let mut current = Word { pieces: Vec::new(), width: 0.0, space_after: None };
        for (si, span) in spans.iter().enumerate() {
            let metrics = self.fonts.metrics(span.style.face);
            let fallback = metrics.advance('?').unwrap_or(0.5);
            for c in span.text.chars() {
                let w = metrics.advance(c).unwrap_or(fallback) * span.style.size;
                if c == ' ' {
                    if !current.pieces.is_empty() {
                        current.space_after = Some((si, w));
                        words.push(std::mem::replace(
                            &mut current,
                            Word { pieces: Vec::new(), width: 0.0, space_after: None },
                        ));
                    } else if let Some(prev) = words.last_mut()
                        && prev.space_after.is_none()
                    {
                        prev.space_after = Some((si, w));
                    }
                    continue;
                }
                match current.pieces.last_mut() {
                    Some((i, text, pw)) if *i == si => {
                        text.push(c);
                        *pw += w;
                    }
                    _ => current.pieces.push((si, c.to_string(), w)),
                }
                current.width += w;
            }
        }
        if !current.pieces.is_empty() {
            words.push(current);
        }
        words
    }

    /// Wraps styled spans into lines no wider than `width` (a word longer than a line is
    /// broken between characters).
    pub(crate) fn wrap(&self, spans: &[Span], width: f32) -> Vec<Line> {
        let mut lines = Vec::new();
        let mut line = Line::default();
        let mut pending_space: Option<(usize, f32)> = None;
        for word in self.words(spans) {
            let space_w = pending_space.map_or(0.0, |(_, w)| w);
            if !line.frags.is_empty() && line.width + space_w + word.width > width + 0.01 {
                lines.push(std::mem::take(&mut line));
                pending_space = None;
            }
            if line.frags.is_empty() && word.width > width + 0.01 {
                // Break the word between characters.
                for (si, text, _) in &word.pieces {
                    let span = &spans[*si];
                    let metrics = self.fonts.metrics(span.style.face);
                    for c in text.chars() {
                        let w = metrics.advance(c).unwrap_or(0.5) * span.style.size;
                        if !line.frags.is_empty() && line.width + w > width + 0.01 {
                            lines.push(std::mem::take(&mut line));
                        }
                        let mut buf = [0u8; 4];
                        line.push(span, c.encode_utf8(&mut buf), w);
                    }
                }
            } else {
                if let Some((si, w)) = pending_space
                    && !line.frags.is_empty()
                {
                    line.push(&spans[si], " ", w);
                }
                for (si, text, w) in &word.pieces {
                    line.push(&spans[*si], text, *w);
                }
            }
            pending_space = word.space_after;
        }
        if !line.frags.is_empty() {
            lines.push(line);
        }
        lines
    }

    /// Lays out `items` (each a few spans, kept whole) in lines no wider than `width`, with
    /// `separator` between neighbours on a line — never at a line's start or end.
    pub(crate) fn inline_list(
        &self,
        items: Vec<Vec<Span>>,
        separator: &Span,
        x: f32,
        width: f32,
        align: Align,
        line_height: f32,
    ) -> Vec<Row> {
        let measure = |spans: &[Span]| -> f32 { spans.iter().map(|s| self.width(&s.text, s.style)).sum() };
        let sep_w = measure(std::slice::from_ref(separator));
        let mut lines: Vec<Vec<Span>> = Vec::new();
        let mut current: Vec<Span> = Vec::new();
        let mut current_w = 0.0;
        for item in items {
            let w = measure(&item);
            if !current.is_empty() && current_w + sep_w + w > width + 0.01 {
                lines.push(std::mem::take(&mut current));
                current_w = 0.0;
            }
            if !current.is_empty() {
                current.push(separator.clone());
                current_w += sep_w;
            }
            current_w += w;
            current.extend(item);
        }
        if !current.is_empty() {
            lines.push(current);
        }
        lines.iter().flat_map(|spans| self.paragraph(spans, x, width, align, line_height)).collect()
    }

    /// Wraps `spans` into `width` starting at `x` and returns one row per line, each
    /// `line_height` × the line's font size tall.
    pub(crate) fn paragraph(&self, spans: &[Span], x: f32, width: f32, align: Align, line_height: f32) -> Vec<Row> {
        self.wrap(spans, width).into_iter().map(|line| line_row(line, x, width, align, line_height)).collect()
    }
}

/// Turns a line into a row: text draws at their baseline plus link areas.
pub(crate) fn line_row(line: Line, x: f32, width: f32, align: Align, line_height: f32) -> Row {
    let size = line.max_size();
    let height = size * line_height;
    // Centre the cap height (~0.71 em for Noto Sans) in the row.
    let baseline = (height + 0.71 * size) / 2.0;
    let x0 = match align {
        Align::Left => x,
        Align::Right => x + width - line.width,
        Align::Center => x + (width - line.width) / 2.0,
    };
    let mut draws = Vec::with_capacity(line.frags.len() * 2);
    for f in line.frags {
        if let Some(uri) = &f.link {
            let trimmed = f.width - trailing_space_width(&f);
            draws.push(Draw::Link {
                x: x0 + f.dx,
                y: baseline - 0.92 * f.style.size,
                w: trimmed,
                h: 1.2 * f.style.size,
                uri: uri.clone(),
            });
        }
        draws.push(Draw::Text { x: x0 + f.dx, y: baseline, text: f.text, style: f.style });
    }
    Row { height, draws }
}

fn trailing_space_width(f: &Frag) -> f32 {
    if f.text.ends_with(' ') { 0.26 * f.style.size } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLACK: Rgb = Rgb(0.0, 0.0, 0.0);

    fn ts() -> Typesetter<'static> {
        Typesetter::new(FontSet::get().expect("fonts"))
    }

    fn texts(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.frags.iter().map(|f| f.text.as_str()).collect::<String>()).collect()
    }

    #[test]
    fn wraps_at_spaces_within_width() {
        let t = ts();
        let style = Style::new(Face::Regular, 10.0, BLACK);
        let spans = [t.span("the quick brown fox jumps over the lazy dog", style)];
        let lines = t.wrap(&spans, 80.0);
        assert!(lines.len() > 1);
        for l in &lines {
            assert!(l.width <= 80.0, "{l:?}");
        }
        assert_eq!(texts(&lines).join(" "), "the quick brown fox jumps over the lazy dog");
    }

    #[test]
    fn styles_join_without_space_and_long_words_break() {
        let t = ts();
        let style = Style::new(Face::Regular, 10.0, BLACK);
        let spans = [t.span("Nexus AI", style.with_face(Face::Bold)), t.span(", CTO", style)];
        let lines = t.wrap(&spans, 500.0);
        assert_eq!(texts(&lines), ["Nexus AI, CTO"]);
        assert_eq!(lines[0].frags.len(), 2);
        let long = [t.span(&"x".repeat(200), style)];
        let lines = t.wrap(&long, 100.0);
        assert!(lines.len() > 3);
        assert!(lines.iter().all(|l| l.width <= 100.0));
    }

    #[test]
    fn keeps_blocks_together_and_headings_with_next() {
        let row = |h: f32| Row::gap(h);
        let frame = Frame { top: 0.0, bottom: 100.0 };
        let marker =
            |id: f32| Row { height: 10.0, draws: vec![Draw::Rect { x: id, y: 0.0, w: 1.0, h: 1.0, color: BLACK }] };
        let blocks = vec![
            Block { rows: vec![row(70.0)], ..Default::default() },
            Block { rows: vec![marker(1.0)], keep_with_next: true, ..Default::default() },
            Block { rows: vec![marker(2.0), row(20.0)], keep_together: true, ..Default::default() },
        ];
        let pages = paginate(&blocks, frame, frame);
        assert_eq!(pages.len(), 2);
        assert!(pages[0].is_empty());
        assert_eq!(pages[1].len(), 2);
    }
}
