//! Markdown → blocks: a [`BlockDraft`] tree (any depth, any size) built with `pulldown-cmark`.
//!
//! Limits are not applied here except the 2000-character split of rich text; the write plan
//! ([`crate::plan_writes`]) splits the tree into requests.

use notion_client::models::{
    Annotations, BlockKind, CalloutBlock, CodeBlock, Color, ContainerBlock, EquationBlock,
    FileObject, Icon, NewBlock, RichText, RichTextKind, TableBlock, TableOfContentsBlock,
    TableRowBlock, UrlBlock,
};
use pulldown_cmark::{
    BlockQuoteKind, CodeBlockKind, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd,
};
use serde_json::Value;

use crate::lang::language_from_markdown;
use crate::plan::split_rich_text;
use crate::tree::{BlockNode, block_from_json};

/// A block to write, with its children at any depth (the write plan splits it into requests).
#[derive(Debug, Clone, PartialEq)]
pub struct BlockDraft {
    /// The block, without children.
    pub block: NewBlock,
    /// Its children.
    pub children: Vec<BlockDraft>,
}

impl BlockDraft {
    /// A draft without children.
    pub fn new(block: NewBlock) -> Self {
        Self {
            block,
            children: Vec::new(),
        }
    }

    /// The request form of this block with all its descendants nested inside (no limits
    /// applied).
    pub fn to_nested_block(&self) -> NewBlock {
        if self.children.is_empty() {
            self.block.clone()
        } else {
            self.block.clone().with_children(
                self.children
                    .iter()
                    .map(BlockDraft::to_nested_block)
                    .collect(),
            )
        }
    }

    /// The number of blocks in this subtree.
    pub fn count(&self) -> usize {
        1 + self.children.iter().map(BlockDraft::count).sum::<usize>()
    }
}

/// Converts drafts into a block tree as Notion would return it (synthetic ids, request-form
/// rich text), for previews and round-trip checks.
pub fn drafts_to_nodes(drafts: &[BlockDraft]) -> Vec<BlockNode> {
    fn go(drafts: &[BlockDraft], next: &mut u64) -> Vec<BlockNode> {
        drafts
            .iter()
            .map(|d| {
                *next += 1;
                let mut v = serde_json::to_value(&d.block).unwrap_or(Value::Null);
                if let Value::Object(m) = &mut v {
                    m.insert("object".into(), Value::String("block".into()));
                    m.insert(
                        "id".into(),
                        Value::String(format!("00000000-0000-4000-8000-{:012x}", *next)),
                    );
                    m.insert("has_children".into(), Value::Bool(!d.children.is_empty()));
                }
                BlockNode {
                    block: block_from_json(&v),
                    children: go(&d.children, next),
                }
            })
            .collect()
    }
    let mut next = 0;
    go(drafts, &mut next)
}

/// Parses Markdown into blocks. Never fails: anything unrecognised becomes text.
pub fn parse_markdown(markdown: &str) -> Vec<BlockDraft> {
    let mut b = Builder::default();
    b.run(markdown);
    b.finish()
}

/// Parses Markdown into request-form block JSON, children nested at any depth (for an
/// emulator that stores JSON; a real writer uses [`crate::plan_markdown`]).
pub fn parse_markdown_json(markdown: &str) -> Vec<Value> {
    parse_markdown(markdown)
        .iter()
        .filter_map(|d| serde_json::to_value(d.to_nested_block()).ok())
        .collect()
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_MATH
        | Options::ENABLE_GFM
}

#[derive(Debug)]
enum Frame {
    Root(Vec<BlockDraft>),
    Quote {
        kind: Option<BlockQuoteKind>,
        text: Option<Vec<RichText>>,
        children: Vec<BlockDraft>,
    },
    List {
        start: Option<u64>,
        first: bool,
    },
    Item {
        start: Option<u64>,
        checked: Option<bool>,
        text: Option<Vec<RichText>>,
        children: Vec<BlockDraft>,
    },
    Details {
        summary: Option<Vec<RichText>>,
        heading: Option<u8>,
        children: Vec<BlockDraft>,
    },
}

#[derive(Debug, Default)]
struct Inline {
    items: Vec<RichText>,
    bold: u32,
    italic: u32,
    strike: u32,
    underline: u32,
    colors: Vec<Color>,
    links: Vec<(String, bool)>,
    image: Option<(String, String)>,
    /// A single image, display equation or autolink that is the whole paragraph.
    special: Option<Special>,
    others: bool,
}

#[derive(Debug, Clone)]
enum Special {
    Image { url: String, alt: String },
    Math(String),
    Autolink(String),
}

impl Inline {
    fn annotations(&self, code: bool) -> Option<Annotations> {
        let color = self.colors.last().cloned().unwrap_or_default();
        if self.bold == 0
            && self.italic == 0
            && self.strike == 0
            && self.underline == 0
            && !code
            && color == Color::Default
        {
            return None;
        }
        let mut a = Annotations::default();
        a.bold = self.bold > 0;
        a.italic = self.italic > 0;
        a.strikethrough = self.strike > 0;
        a.underline = self.underline > 0;
        a.code = code;
        a.color = color;
        Some(a)
    }

    fn push_text(&mut self, text: &str, code: bool) {
        if text.is_empty() {
            return;
        }
        if let Some((_, alt)) = &mut self.image {
            alt.push_str(text);
            return;
        }
        let in_autolink = self.links.last().is_some_and(|(_, auto)| *auto);
        if (!text.trim().is_empty() || code) && !in_autolink {
            self.mark_other();
        }
        let annotations = self.annotations(code);
        let link = self.links.last().map(|(u, _)| u.as_str());
        if let Some(last) = self.items.last_mut() {
            let same_link = match &last.kind {
                RichTextKind::Text(t) => t.link.as_ref().map(|l| l.url.as_str()) == link,
                _ => false,
            };
            if same_link
                && last.annotations == annotations
                && let RichTextKind::Text(t) = &mut last.kind
            {
                t.content.push_str(text);
                return;
            }
        }
        let mut rt = match link {
            Some(url) => RichText::link(text, url),
            None => RichText::plain(text),
        };
        rt.annotations = annotations;
        self.items.push(rt);
    }

    fn push_equation(&mut self, expr: &str, display: bool) {
        if let Some((_, alt)) = &mut self.image {
            alt.push_str(expr);
            return;
        }
        let expr = expr.trim();
        if display && self.items.is_empty() && !self.others && self.special.is_none() {
            self.special = Some(Special::Math(expr.to_string()));
        } else {
            self.mark_other();
        }
        if expr.chars().count() > 1000 {
            // Notion caps equations at 1000 characters: keep the text as code instead.
            self.push_text(expr, true);
            return;
        }
        let mut rt = RichText::equation(expr);
        rt.annotations = self.annotations(false);
        self.items.push(rt);
    }

    fn mark_other(&mut self) {
        self.others = true;
        self.special = None;
    }
}

#[derive(Default)]
struct TableState {
    rows: Vec<Vec<Vec<RichText>>>,
    row: Vec<Vec<RichText>>,
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    inline: Option<Inline>,
    heading: Option<u8>,
    code: Option<(String, String)>,
    table: Option<TableState>,
    html: Option<String>,
}

fn heading_level(l: HeadingLevel) -> u8 {
    match l {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        _ => 4,
    }
}

impl Builder {
    fn run(&mut self, markdown: &str) {
        self.stack.push(Frame::Root(Vec::new()));
        for event in Parser::new_ext(markdown, options()) {
            self.event(event);
        }
        self.flush_inline();
        self.flush_html();
        while self.stack.len() > 1 {
            self.close_top();
        }
    }

    fn finish(mut self) -> Vec<BlockDraft> {
        match self.stack.pop() {
            Some(Frame::Root(blocks)) => blocks,
            _ => Vec::new(),
        }
    }

    fn inline(&mut self) -> &mut Inline {
        self.inline.get_or_insert_with(Inline::default)
    }

    /// Where finished blocks go: the children of the innermost container.
    fn push_block(&mut self, draft: BlockDraft) {
        for frame in self.stack.iter_mut().rev() {
            match frame {
                Frame::Root(c) => return c.push(draft),
                Frame::Quote { children, .. }
                | Frame::Item { children, .. }
                | Frame::Details { children, .. } => return children.push(draft),
                Frame::List { .. } => continue,
            }
        }
    }

    /// A paragraph of inline content ended: it becomes the text of the innermost quote or
    /// item when that has none yet, else a block.
    fn flush_inline(&mut self) {
        let Some(inline) = self.inline.take() else {
            return;
        };
        let Inline { items, special, .. } = inline;
        if let Some(top) = self.stack.last_mut() {
            match top {
                Frame::Quote { text, children, .. } | Frame::Item { text, children, .. }
                    if text.is_none() && children.is_empty() =>
                {
                    *text = Some(split_rich_text(items));
                    return;
                }
                _ => {}
            }
        }
        let block = match special {
            Some(Special::Image { url, alt }) if items.len() == 1 => {
                let mut f = FileObject::external(url);
                f.caption = Some(if alt.is_empty() {
                    Vec::new()
                } else {
                    vec![RichText::plain(alt)]
                });
                NewBlock::new(BlockKind::Image(f))
            }
            Some(Special::Math(expr)) if items.len() == 1 => {
                let mut e = EquationBlock::default();
                e.expression = expr;
                NewBlock::new(BlockKind::Equation(e))
            }
            Some(Special::Autolink(url)) if items.len() == 1 => {
                let mut u = UrlBlock::default();
                u.url = Some(url);
                NewBlock::new(BlockKind::Bookmark(u))
            }
            _ => {
                if items.iter().all(
                    |rt| matches!(&rt.kind, RichTextKind::Text(t) if t.content.trim().is_empty()),
                ) {
                    return;
                }
                NewBlock::paragraph(split_rich_text(items))
            }
        };
        self.push_block(BlockDraft::new(block));
    }

    fn close_top(&mut self) {
        self.flush_inline();
        let Some(frame) = self.stack.pop() else {
            return;
        };
        match frame {
            Frame::Root(blocks) => self.stack.push(Frame::Root(blocks)),
            Frame::List { .. } => {}
            Frame::Quote {
                kind,
                text,
                children,
            } => {
                let text = text.unwrap_or_default();
                let block = match kind {
                    None => NewBlock::quote(text),
                    Some(kind) => callout(kind, text),
                };
                self.push_block(BlockDraft { block, children });
            }
            Frame::Item {
                start,
                checked,
                text,
                children,
            } => {
                let text = text.unwrap_or_default();
                let block = match (checked, start) {
                    (Some(c), _) => NewBlock::to_do(text, c),
                    (None, Some(start)) => {
                        let mut b = NewBlock::numbered_list_item(text);
                        if start != 1
                            && let BlockKind::NumberedListItem(n) = &mut b.kind
                        {
                            n.list_start_index = Some(start);
                        }
                        b
                    }
                    (None, None) => NewBlock::bulleted_list_item(text),
                };
                self.push_block(BlockDraft { block, children });
            }
            Frame::Details {
                summary,
                heading,
                children,
            } => {
                let text = summary.unwrap_or_default();
                let block = match heading {
                    Some(level) => {
                        let mut b = NewBlock::heading(level, text);
                        if let BlockKind::Heading1(h)
                        | BlockKind::Heading2(h)
                        | BlockKind::Heading3(h)
                        | BlockKind::Heading4(h) = &mut b.kind
                        {
                            h.is_toggleable = Some(true);
                        }
                        b
                    }
                    None => NewBlock::toggle(text),
                };
                self.push_block(BlockDraft { block, children });
            }
        }
    }

    fn event(&mut self, event: Event<'_>) {
        if let Some(html) = &mut self.html {
            match event {
                Event::Html(s) => return html.push_str(&s),
                Event::End(TagEnd::HtmlBlock) => return self.flush_html(),
                _ => self.flush_html(),
            }
        }
        if let Some((_, code)) = &mut self.code {
            match event {
                Event::Text(s) => return code.push_str(&s),
                Event::End(TagEnd::CodeBlock) => {
                    if let Some((lang, mut code)) = self.code.take() {
                        if code.ends_with('\n') {
                            code.pop();
                        }
                        let mut c = CodeBlock::default();
                        c.rich_text = Some(split_rich_text(vec![RichText::plain(code)]));
                        c.language = Some(lang);
                        self.push_block(BlockDraft::new(NewBlock::new(BlockKind::Code(c))));
                    }
                    return;
                }
                _ => return,
            }
        }
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(s) => self.inline().push_text(&s, false),
            Event::Code(s) => self.inline().push_text(&s, true),
            Event::InlineMath(s) => self.inline().push_equation(&s, false),
            Event::DisplayMath(s) => self.inline().push_equation(&s, true),
            Event::SoftBreak | Event::HardBreak => self.inline().push_text("\n", false),
            Event::InlineHtml(s) => self.inline_html(&s),
            Event::Html(s) => {
                self.flush_inline();
                self.html = Some(s.to_string());
            }
            Event::Rule => {
                self.flush_inline();
                self.push_block(BlockDraft::new(NewBlock::divider()));
            }
            Event::TaskListMarker(checked) => {
                if let Some(Frame::Item { checked: c, .. }) = self.stack.last_mut() {
                    *c = Some(checked);
                }
            }
            Event::FootnoteReference(s) => self.inline().push_text(&s, false),
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => {
                self.flush_inline();
                self.inline = Some(Inline::default());
            }
            Tag::Heading { level, .. } => {
                self.flush_inline();
                self.heading = Some(heading_level(level));
                self.inline = Some(Inline::default());
            }
            Tag::BlockQuote(kind) => {
                self.flush_inline();
                self.stack.push(Frame::Quote {
                    kind,
                    text: None,
                    children: Vec::new(),
                });
            }
            Tag::CodeBlock(kind) => {
                self.flush_inline();
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => language_from_markdown(&info),
                    CodeBlockKind::Indented => "plain text",
                };
                self.code = Some((lang.to_string(), String::new()));
            }
            Tag::HtmlBlock => {
                self.flush_inline();
                self.html = Some(String::new());
            }
            Tag::List(start) => {
                self.flush_inline();
                self.stack.push(Frame::List { start, first: true });
            }
            Tag::Item => {
                self.flush_inline();
                let start = match self.stack.last_mut() {
                    Some(Frame::List {
                        start: Some(s),
                        first,
                    }) => {
                        let v = if *first { *s } else { 1 };
                        *first = false;
                        Some(v)
                    }
                    _ => None,
                };
                self.stack.push(Frame::Item {
                    start,
                    checked: None,
                    text: None,
                    children: Vec::new(),
                });
            }
            Tag::Table(_) => {
                self.flush_inline();
                self.table = Some(TableState::default());
            }
            Tag::TableHead | Tag::TableRow => {
                if let Some(t) = &mut self.table {
                    t.row.clear();
                }
            }
            Tag::TableCell => self.inline = Some(Inline::default()),
            Tag::Emphasis => self.inline().italic += 1,
            Tag::Strong => self.inline().bold += 1,
            Tag::Strikethrough => self.inline().strike += 1,
            Tag::Link {
                link_type,
                dest_url,
                ..
            } => {
                let auto = matches!(link_type, LinkType::Autolink);
                let inline = self.inline();
                if auto && inline.items.is_empty() && !inline.others && inline.special.is_none() {
                    inline.special = Some(Special::Autolink(dest_url.to_string()));
                    // The link text is the URL; it must not clear the special.
                    inline.links.push((dest_url.to_string(), true));
                } else {
                    inline.mark_other();
                    inline.links.push((dest_url.to_string(), false));
                }
            }
            Tag::Image { dest_url, .. } => {
                let inline = self.inline();
                inline.image = Some((dest_url.to_string(), String::new()));
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => self.flush_inline(),
            TagEnd::Heading(_) => {
                let items = self.inline.take().map(|i| i.items).unwrap_or_default();
                let level = self.heading.take().unwrap_or(1);
                self.push_block(BlockDraft::new(NewBlock::heading(
                    level,
                    split_rich_text(items),
                )));
            }
            TagEnd::BlockQuote(_) | TagEnd::Item | TagEnd::List(_) => self.close_top(),
            TagEnd::TableCell => {
                let items = self.inline.take().map(|i| i.items).unwrap_or_default();
                if let Some(t) = &mut self.table {
                    t.row.push(split_rich_text(items));
                }
            }
            TagEnd::TableHead | TagEnd::TableRow => {
                if let Some(t) = &mut self.table {
                    let row = std::mem::take(&mut t.row);
                    t.rows.push(row);
                }
            }
            TagEnd::Table => {
                if let Some(t) = self.table.take() {
                    self.push_table(t);
                }
            }
            TagEnd::Emphasis => {
                let i = self.inline();
                i.italic = i.italic.saturating_sub(1);
            }
            TagEnd::Strong => {
                let i = self.inline();
                i.bold = i.bold.saturating_sub(1);
            }
            TagEnd::Strikethrough => {
                let i = self.inline();
                i.strike = i.strike.saturating_sub(1);
            }
            TagEnd::Link => {
                self.inline().links.pop();
            }
            TagEnd::Image => {
                let i = self.inline();
                if let Some((url, alt)) = i.image.take() {
                    let only = i.items.is_empty() && !i.others && i.special.is_none();
                    let text = if alt.is_empty() {
                        url.clone()
                    } else {
                        alt.clone()
                    };
                    let mut rt = RichText::link(text, url.clone());
                    rt.annotations = i.annotations(false);
                    i.items.push(rt);
                    if only {
                        i.special = Some(Special::Image { url, alt });
                    } else {
                        i.mark_other();
                    }
                }
            }
            _ => {}
        }
    }

    fn push_table(&mut self, t: TableState) {
        let mut rows = t.rows;
        let width = rows.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let header_empty = rows.first().is_some_and(|r| r.iter().all(Vec::is_empty));
        if header_empty {
            rows.remove(0);
        }
        let mut table = TableBlock::default();
        table.table_width = Some(width as u64);
        table.has_column_header = Some(!header_empty);
        table.has_row_header = Some(false);
        let children = rows
            .into_iter()
            .map(|mut cells| {
                cells.resize(width, Vec::new());
                let mut r = TableRowBlock::default();
                r.cells = cells;
                BlockDraft::new(NewBlock::new(BlockKind::TableRow(r)))
            })
            .collect();
        self.push_block(BlockDraft {
            block: NewBlock::new(BlockKind::Table(table)),
            children,
        });
    }

    fn inline_html(&mut self, html: &str) {
        let tag = html.trim().to_ascii_lowercase();
        let i = self.inline();
        match tag.as_str() {
            "<u>" | "<ins>" => i.underline += 1,
            "</u>" | "</ins>" => i.underline = i.underline.saturating_sub(1),
            "<s>" | "<del>" | "<strike>" => i.strike += 1,
            "</s>" | "</del>" | "</strike>" => i.strike = i.strike.saturating_sub(1),
            "<strong>" | "<b>" => i.bold += 1,
            "</strong>" | "</b>" => i.bold = i.bold.saturating_sub(1),
            "<em>" | "<i>" => i.italic += 1,
            "</em>" | "</i>" => i.italic = i.italic.saturating_sub(1),
            "<br>" | "<br/>" | "<br />" => i.push_text("\n", false),
            "</span>" => {
                i.colors.pop();
            }
            _ if tag.starts_with("<span") => {
                let color = span_color(&tag).unwrap_or_default();
                i.colors.push(color);
            }
            _ => i.push_text(html, false),
        }
    }

    fn flush_html(&mut self) {
        let Some(html) = self.html.take() else { return };
        let mut rest = html.as_str();
        loop {
            let trimmed = rest.trim_start();
            if trimmed.is_empty() {
                break;
            }
            let lower = trimmed.to_ascii_lowercase();
            if lower.starts_with("<details") {
                let end = trimmed.find('>').map_or(trimmed.len(), |e| e + 1);
                self.flush_inline();
                self.stack.push(Frame::Details {
                    summary: None,
                    heading: None,
                    children: Vec::new(),
                });
                rest = &trimmed[end..];
            } else if lower.starts_with("<summary>") {
                let (inner, after) = match lower.find("</summary>") {
                    Some(e) => (&trimmed[9..e], &trimmed[e + 10..]),
                    None => (&trimmed[9..], ""),
                };
                let (heading, inner) = strip_heading(inner);
                let text = parse_inline(inner);
                if let Some(Frame::Details {
                    summary,
                    heading: h,
                    ..
                }) = self.stack.last_mut()
                {
                    *summary = Some(text);
                    *h = heading;
                } else {
                    self.push_block(BlockDraft::new(NewBlock::paragraph(text)));
                }
                rest = after;
            } else if lower.starts_with("</details>") {
                self.flush_inline();
                if matches!(self.stack.last(), Some(Frame::Details { .. })) {
                    self.close_top();
                }
                rest = &trimmed[10..];
            } else if lower.starts_with("<!--") {
                let end = trimmed.find("-->").map_or(trimmed.len(), |e| e + 3);
                let comment = trimmed[4..end.saturating_sub(3).max(4)].trim();
                match comment {
                    "breadcrumb" => self.push_block(BlockDraft::new(NewBlock::new(
                        BlockKind::Breadcrumb(ContainerBlock::default()),
                    ))),
                    "table_of_contents" => self.push_block(BlockDraft::new(NewBlock::new(
                        BlockKind::TableOfContents(TableOfContentsBlock::default()),
                    ))),
                    _ => {}
                }
                rest = &trimmed[end..];
            } else if lower.starts_with("<empty-block/>") {
                self.push_block(BlockDraft::new(NewBlock::paragraph(Vec::new())));
                rest = &trimmed[14..];
            } else {
                // Other HTML: keep the line as text.
                let end = trimmed.find('\n').unwrap_or(trimmed.len());
                let line = trimmed[..end].trim_end();
                if !line.is_empty() {
                    self.push_block(BlockDraft::new(NewBlock::paragraph(split_rich_text(vec![
                        RichText::plain(line),
                    ]))));
                }
                rest = &trimmed[end..];
            }
        }
    }
}

fn strip_heading(inner: &str) -> (Option<u8>, &str) {
    let t = inner.trim();
    for (level, open, close) in [
        (1u8, "<h1>", "</h1>"),
        (2, "<h2>", "</h2>"),
        (3, "<h3>", "</h3>"),
        (4, "<h4>", "</h4>"),
    ] {
        if let Some(body) = t.strip_prefix(open).and_then(|b| b.strip_suffix(close)) {
            return (Some(level), body);
        }
    }
    (None, inner)
}

/// Parses inline Markdown (a summary) into rich text.
fn parse_inline(s: &str) -> Vec<RichText> {
    let mut b = Builder::default();
    b.stack.push(Frame::Root(Vec::new()));
    let mut items = Vec::new();
    for event in Parser::new_ext(s, options()) {
        match event {
            Event::Start(Tag::Paragraph) | Event::End(TagEnd::Paragraph) => {
                if let Some(i) = b.inline.take() {
                    if !items.is_empty() && !i.items.is_empty() {
                        items.push(RichText::plain("\n"));
                    }
                    items.extend(i.items);
                }
            }
            Event::Start(Tag::Heading { .. }) | Event::End(TagEnd::Heading(_)) => {}
            e @ (Event::Text(_)
            | Event::Code(_)
            | Event::InlineMath(_)
            | Event::DisplayMath(_)
            | Event::SoftBreak
            | Event::HardBreak
            | Event::InlineHtml(_)
            | Event::Start(_)
            | Event::End(_)) => b.event(e),
            _ => {}
        }
    }
    if let Some(i) = b.inline.take() {
        items.extend(i.items);
    }
    split_rich_text(items)
}

fn span_color(tag: &str) -> Option<Color> {
    let style = tag.split("style=").nth(1)?;
    let style = style.trim_start_matches(['"', '\'']);
    let (bg, rest) = if let Some(r) = style.strip_prefix("background-color:") {
        (true, r)
    } else if let Some(r) = style.strip_prefix("color:") {
        (false, r)
    } else {
        return None;
    };
    let name: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if name.is_empty() {
        return None;
    }
    Some(Color::from(
        if bg {
            format!("{name}_background")
        } else {
            name
        }
        .as_str(),
    ))
}

fn callout(kind: BlockQuoteKind, mut text: Vec<RichText>) -> NewBlock {
    let color = match kind {
        BlockQuoteKind::Tip => Some(Color::GreenBackground),
        BlockQuoteKind::Important => Some(Color::PurpleBackground),
        BlockQuoteKind::Warning => Some(Color::YellowBackground),
        BlockQuoteKind::Caution => Some(Color::RedBackground),
        BlockQuoteKind::Note => None,
    };
    let mut icon = None;
    if let Some(RichText {
        kind: RichTextKind::Text(t),
        annotations: None,
        ..
    }) = text.first_mut()
        && let Some((emoji, rest)) = leading_emoji(&t.content)
    {
        icon = Some(Icon::emoji(emoji));
        t.content = rest.to_string();
    }
    if matches!(text.first(), Some(RichText { kind: RichTextKind::Text(t), .. }) if t.content.is_empty())
    {
        text.remove(0);
    }
    let mut c = CalloutBlock::default();
    c.rich_text = Some(text);
    c.color = color;
    c.icon = icon.into();
    NewBlock::new(BlockKind::Callout(c))
}

/// An emoji at the start of a text (followed by a space or the end): (emoji, rest).
fn leading_emoji(s: &str) -> Option<(&str, &str)> {
    let first = s.chars().next()?;
    let cp = first as u32;
    let emoji_like = (0x1F000..=0x1FAFF).contains(&cp)
        || (0x2600..=0x27BF).contains(&cp)
        || (0x2B00..=0x2BFF).contains(&cp)
        || (0x2190..=0x21FF).contains(&cp)
        || (0x2300..=0x23FF).contains(&cp);
    if !emoji_like {
        return None;
    }
    let end = s.find(' ').unwrap_or(s.len());
    let emoji = &s[..end];
    if emoji.chars().count() > 8 {
        return None;
    }
    let rest = s[end..].strip_prefix(' ').unwrap_or(&s[end..]);
    Some((emoji, rest))
}
