//! Blocks → GitHub-flavoured Markdown and → plain text.
//!
//! The renderer writes straight into one `String`: no per-block allocation besides the line
//! prefix (indentation and `> ` of nested blocks), which grows and shrinks in place.

use notion_client::ids::BlockId;
use notion_client::models::{
    Block, BlockKind, Color, FileObject, IconKind, LinkToPageKind, MeetingNotesBlock, RichText,
};
use serde_json::Value;

use crate::inline::{
    Mode, Out, push_notion_link, push_plain, push_url, write_link, write_rich_text,
};
use crate::lang::language_to_markdown;
use crate::tree::{BlockNode, ChildSource, NoChildren, block_from_json};

/// How blocks are rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RenderOptions {
    /// Keep text colours as `<span style="color:…">` / `<span style="background-color:…">`
    /// (default: dropped).
    pub colors: bool,
    /// Write empty paragraphs as `<empty-block/>` (Notion's own Markdown does); by default
    /// they are left out.
    pub empty_paragraphs: bool,
    /// Render the transcript child of meeting notes (default: left out).
    pub include_transcript: bool,
    /// Stop after this many blocks and report [`Rendered::truncated`].
    pub max_blocks: Option<usize>,
    /// Deepest nesting rendered (guards against cycles in a child source). Default 64.
    pub max_depth: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            colors: false,
            empty_paragraphs: false,
            include_transcript: false,
            max_blocks: None,
            max_depth: 64,
        }
    }
}

impl RenderOptions {
    /// Keeps colours (builder).
    pub fn colors(mut self, colors: bool) -> Self {
        self.colors = colors;
        self
    }

    /// Writes empty paragraphs as `<empty-block/>` (builder).
    pub fn empty_paragraphs(mut self, on: bool) -> Self {
        self.empty_paragraphs = on;
        self
    }

    /// Renders meeting-note transcripts (builder).
    pub fn include_transcript(mut self, on: bool) -> Self {
        self.include_transcript = on;
        self
    }

    /// Caps the number of blocks rendered (builder).
    pub fn max_blocks(mut self, max: impl Into<Option<usize>>) -> Self {
        self.max_blocks = max.into();
        self
    }

    /// Caps the nesting depth (builder).
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }
}

/// The result of rendering.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Rendered {
    /// The Markdown (or plain text).
    pub markdown: String,
    /// Blocks of a type this crate cannot render (each rendered as a placeholder comment).
    pub unknown_block_ids: Vec<BlockId>,
    /// Whether [`RenderOptions::max_blocks`] or [`RenderOptions::max_depth`] cut the output.
    pub truncated: bool,
    /// The number of blocks rendered.
    pub blocks: usize,
}

/// A node of a tree being rendered: a [`Block`] whose children come from the child source,
/// or a [`BlockNode`] that owns them.
pub(crate) trait Node: Sized {
    fn block(&self) -> &Block;
    fn kids<'a>(&'a self, src: &'a dyn ChildSource) -> &'a [Self];
}

impl Node for Block {
    fn block(&self) -> &Block {
        self
    }
    fn kids<'a>(&'a self, src: &'a dyn ChildSource) -> &'a [Block] {
        if !self.has_children {
            return &[];
        }
        if let Some(kids) = src.children(&self.id).filter(|k| !k.is_empty()) {
            return kids;
        }
        if let BlockKind::SyncedBlock(s) = &self.kind
            && let Some(original) = s.synced_from.as_ref().and_then(|f| f.block_id.as_ref())
        {
            return src.children(original).unwrap_or(&[]);
        }
        &[]
    }
}

impl Node for BlockNode {
    fn block(&self) -> &Block {
        &self.block
    }
    fn kids<'a>(&'a self, _src: &'a dyn ChildSource) -> &'a [BlockNode] {
        &self.children
    }
}

struct Ctx<'a> {
    opts: &'a RenderOptions,
    src: &'a dyn ChildSource,
    unknown: Vec<BlockId>,
    count: usize,
    truncated: bool,
    depth: usize,
}

impl Ctx<'_> {
    /// Counts a block; false when the block cap is reached.
    fn admit(&mut self) -> bool {
        if self.truncated {
            return false;
        }
        if self.opts.max_blocks.is_some_and(|max| self.count >= max) {
            self.truncated = true;
            return false;
        }
        self.count += 1;
        true
    }
}

/// Renders blocks (and, through `source`, their descendants) as Markdown.
pub fn render_markdown(
    blocks: &[Block],
    source: &dyn ChildSource,
    opts: &RenderOptions,
) -> Rendered {
    render_generic(blocks, source, opts)
}

/// Renders an owned block tree as Markdown.
pub fn render_nodes(nodes: &[BlockNode], opts: &RenderOptions) -> Rendered {
    render_generic(nodes, &NoChildren, opts)
}

/// Renders blocks given as JSON (as stored by an emulator or returned by the API): `top` are
/// the top-level blocks and `children(id)` the children of a block (an id as in the block's
/// `id`). Malformed blocks render as placeholders.
pub fn render_json(
    top: &[Value],
    children: &dyn Fn(&str) -> Vec<Value>,
    opts: &RenderOptions,
) -> Rendered {
    fn build(
        values: &[Value],
        children: &dyn Fn(&str) -> Vec<Value>,
        depth: usize,
    ) -> Vec<BlockNode> {
        values
            .iter()
            .map(|v| {
                let block = block_from_json(v);
                let kids =
                    if depth > 1 && v.get("has_children").and_then(Value::as_bool) != Some(false) {
                        let id = v.get("id").and_then(Value::as_str).unwrap_or("");
                        build(&children(id), children, depth - 1)
                    } else {
                        Vec::new()
                    };
                BlockNode {
                    block,
                    children: kids,
                }
            })
            .collect()
    }
    let nodes = build(top, children, opts.max_depth.max(1));
    render_nodes(&nodes, opts)
}

/// Like [`render_markdown`], but appends the Markdown to `buf` (so that a caller rendering
/// many pages reuses one buffer); the returned [`Rendered::markdown`] is empty.
pub fn render_markdown_into(
    buf: &mut String,
    blocks: &[Block],
    source: &dyn ChildSource,
    opts: &RenderOptions,
) -> Rendered {
    let mut markdown = std::mem::take(buf);
    let mut r = render_generic_into(&mut markdown, blocks, source, opts);
    *buf = markdown;
    r.markdown = String::new();
    r
}

fn render_generic<N: Node>(nodes: &[N], src: &dyn ChildSource, opts: &RenderOptions) -> Rendered {
    let mut markdown = String::with_capacity(nodes.len() * 96);
    let mut r = render_generic_into(&mut markdown, nodes, src, opts);
    r.markdown = markdown;
    r
}

fn render_generic_into<N: Node>(
    markdown: &mut String,
    nodes: &[N],
    src: &dyn ChildSource,
    opts: &RenderOptions,
) -> Rendered {
    let start = markdown.len();
    let mut ctx = Ctx {
        opts,
        src,
        unknown: Vec::new(),
        count: 0,
        truncated: false,
        depth: 0,
    };
    {
        let mut out = Out::new(markdown);
        render_seq(&mut out, &mut ctx, nodes);
    }
    if markdown.len() > start {
        markdown.push('\n');
    }
    Rendered {
        markdown: String::new(),
        unknown_block_ids: ctx.unknown,
        truncated: ctx.truncated,
        blocks: ctx.count,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ListKind {
    Dash,
    Numbered,
}

fn list_kind(b: &Block) -> Option<ListKind> {
    match b.kind {
        BlockKind::BulletedListItem(_) | BlockKind::ToDo(_) => Some(ListKind::Dash),
        BlockKind::NumberedListItem(_) => Some(ListKind::Numbered),
        _ => None,
    }
}

fn is_empty_rt(rt: Option<&Vec<RichText>>) -> bool {
    rt.is_none_or(|r| {
        r.iter().all(|t| match &t.kind {
            notion_client::models::RichTextKind::Text(x) => x.content.is_empty(),
            _ => false,
        })
    })
}

fn render_seq<N: Node>(out: &mut Out<'_>, ctx: &mut Ctx<'_>, nodes: &[N]) {
    if ctx.depth >= ctx.opts.max_depth {
        if !nodes.is_empty() {
            ctx.truncated = true;
        }
        return;
    }
    ctx.depth += 1;
    let mut prev: Option<Option<ListKind>> = None;
    let mut number: u64 = 0;
    for node in nodes {
        let block = node.block();
        if block.is_in_trash() {
            continue;
        }
        if !ctx.opts.empty_paragraphs
            && let BlockKind::Paragraph(p) = &block.kind
            && is_empty_rt(p.rich_text.as_ref())
            && node.kids(ctx.src).is_empty()
        {
            continue;
        }
        if !ctx.admit() {
            break;
        }
        let kind = list_kind(block);
        match prev {
            None => {}
            Some(p) if p.is_some() && p == kind => out.newline(),
            Some(_) => out.blank_line(),
        }
        if kind == Some(ListKind::Numbered) {
            number = if prev == Some(Some(ListKind::Numbered)) {
                number.saturating_add(1)
            } else if let BlockKind::NumberedListItem(n) = &block.kind {
                n.list_start_index.unwrap_or(1)
            } else {
                1
            };
        }
        render_block(out, ctx, node, number);
        prev = Some(kind);
    }
    ctx.depth -= 1;
}

/// Renders children indented under a list item (or quoted), after the item's text.
fn render_nested<N: Node>(out: &mut Out<'_>, ctx: &mut Ctx<'_>, kids: &[N], indent: &str) {
    if kids.is_empty() {
        return;
    }
    let len = out.prefix.len();
    out.prefix.push_str(indent);
    let first_is_list = kids
        .iter()
        .find(|k| !k.block().is_in_trash())
        .is_some_and(|k| list_kind(k.block()).is_some());
    if first_is_list {
        out.newline();
    } else {
        out.blank_line();
    }
    render_seq(out, ctx, kids);
    out.prefix.truncate(len);
}

/// Renders children after a block at the same level (blocks without Markdown nesting).
fn render_after<N: Node>(out: &mut Out<'_>, ctx: &mut Ctx<'_>, kids: &[N]) {
    if kids.iter().any(|k| !k.block().is_in_trash()) {
        out.blank_line();
        render_seq(out, ctx, kids);
    }
}

fn write_rt(out: &mut Out<'_>, ctx: &Ctx<'_>, rt: Option<&Vec<RichText>>) {
    if let Some(rt) = rt {
        write_rich_text(out, rt, ctx.opts);
    }
}

fn details<N: Node>(
    out: &mut Out<'_>,
    ctx: &mut Ctx<'_>,
    summary: &dyn Fn(&mut Out<'_>, &Ctx<'_>),
    kids: &[N],
) {
    out.buf.push_str("<details>");
    out.newline();
    out.buf.push_str("<summary>");
    let mode = out.mode;
    out.mode = Mode::Inline;
    summary(out, ctx);
    out.mode = mode;
    out.buf.push_str("</summary>");
    if kids.iter().any(|k| !k.block().is_in_trash()) {
        out.blank_line();
        render_seq(out, ctx, kids);
        out.blank_line();
    } else {
        out.newline();
    }
    out.buf.push_str("</details>");
}

fn placeholder(out: &mut Out<'_>, ctx: &mut Ctx<'_>, ty: &str, id: &BlockId) {
    out.buf.push_str("<!-- unsupported block: ");
    for c in ty.chars() {
        if c != '-' && c != '>' && c != '<' {
            out.buf.push(c);
        }
    }
    out.buf.push_str(" (");
    out.buf.push_str(id.as_str());
    out.buf.push_str(") -->");
    ctx.unknown.push(id.clone());
}

fn file_label(f: &FileObject, ty: &str) -> String {
    let mut s = String::new();
    if let Some(c) = &f.caption {
        push_plain(&mut s, c);
    }
    if s.trim().is_empty() {
        s = f.name.clone().unwrap_or_else(|| ty.to_string());
    }
    s.replace(['\n', '\r'], " ")
}

fn render_block<N: Node>(out: &mut Out<'_>, ctx: &mut Ctx<'_>, node: &N, number: u64) {
    let block = node.block();
    let kids = node.kids(ctx.src);
    match &block.kind {
        BlockKind::Paragraph(p) => {
            if is_empty_rt(p.rich_text.as_ref()) {
                if ctx.opts.empty_paragraphs {
                    out.buf.push_str("<empty-block/>");
                }
            } else {
                write_rt(out, ctx, p.rich_text.as_ref());
            }
            if is_empty_rt(p.rich_text.as_ref()) && !ctx.opts.empty_paragraphs {
                render_seq(out, ctx, kids);
            } else {
                render_after(out, ctx, kids);
            }
        }
        BlockKind::Heading1(h)
        | BlockKind::Heading2(h)
        | BlockKind::Heading3(h)
        | BlockKind::Heading4(h) => {
            let level = match block.kind {
                BlockKind::Heading1(_) => 1,
                BlockKind::Heading2(_) => 2,
                BlockKind::Heading3(_) => 3,
                _ => 4,
            };
            if h.is_toggleable == Some(true) {
                let tag = ["h1", "h2", "h3", "h4"][level - 1];
                let rt = h.rich_text.as_ref();
                details(
                    out,
                    ctx,
                    &|out, ctx| {
                        out.buf.push('<');
                        out.buf.push_str(tag);
                        out.buf.push('>');
                        write_rt(out, ctx, rt);
                        out.buf.push_str("</");
                        out.buf.push_str(tag);
                        out.buf.push('>');
                    },
                    kids,
                );
            } else {
                out.buf.push_str(&"####"[..level]);
                out.buf.push(' ');
                write_rt(out, ctx, h.rich_text.as_ref());
                render_after(out, ctx, kids);
            }
        }
        BlockKind::BulletedListItem(t) => {
            out.buf.push_str("- ");
            write_rt(out, ctx, t.rich_text.as_ref());
            render_nested(out, ctx, kids, "  ");
        }
        BlockKind::ToDo(t) => {
            out.buf.push_str(if t.checked == Some(true) {
                "- [x] "
            } else {
                "- [ ] "
            });
            write_rt(out, ctx, t.rich_text.as_ref());
            render_nested(out, ctx, kids, "  ");
        }
        BlockKind::NumberedListItem(t) => {
            let start = out.buf.len();
            let mut n = number;
            let mut digits = [0u8; 20];
            let mut k = digits.len();
            loop {
                k -= 1;
                digits[k] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            for d in &digits[k..] {
                out.buf.push(*d as char);
            }
            out.buf.push_str(". ");
            let width = out.buf.len() - start;
            write_rt(out, ctx, t.rich_text.as_ref());
            render_nested(out, ctx, kids, &"                        "[..width.min(24)]);
        }
        BlockKind::Quote(t) => {
            let len = out.prefix.len();
            out.prefix.push_str("> ");
            out.buf.push_str("> ");
            write_rt(out, ctx, t.rich_text.as_ref());
            render_after(out, ctx, kids);
            out.prefix.truncate(len);
        }
        BlockKind::Callout(c) => {
            let len = out.prefix.len();
            out.prefix.push_str("> ");
            out.buf.push_str("> [!");
            out.buf.push_str(alert_kind(c.color.as_ref()));
            out.buf.push(']');
            out.newline();
            let mut wrote_icon = false;
            if let Some(icon) = c.icon.as_ref() {
                match &icon.kind {
                    IconKind::Emoji(e) => {
                        out.buf.push_str(e);
                        wrote_icon = true;
                    }
                    IconKind::CustomEmoji(e) => {
                        out.buf.push(':');
                        out.buf.push_str(e.name.as_deref().unwrap_or("emoji"));
                        out.buf.push(':');
                        wrote_icon = true;
                    }
                    _ => {}
                }
            }
            if wrote_icon && !is_empty_rt(c.rich_text.as_ref()) {
                out.buf.push(' ');
            }
            write_rt(out, ctx, c.rich_text.as_ref());
            render_after(out, ctx, kids);
            out.prefix.truncate(len);
        }
        BlockKind::Toggle(t) | BlockKind::Template(t) => {
            let rt = t.rich_text.as_ref();
            details(out, ctx, &|out, ctx| write_rt(out, ctx, rt), kids);
        }
        BlockKind::Code(c) => {
            let mut code = String::new();
            if let Some(rt) = &c.rich_text {
                push_plain(&mut code, rt);
            }
            let mut run = 0usize;
            let mut longest = 0usize;
            for ch in code.chars() {
                if ch == '`' {
                    run += 1;
                    longest = longest.max(run);
                } else {
                    run = 0;
                }
            }
            let fence = longest.max(2) + 1;
            for _ in 0..fence {
                out.buf.push('`');
            }
            let lang = c.language.as_deref().unwrap_or("plain text");
            out.buf.push_str(&language_to_markdown(lang));
            out.newline();
            if !code.is_empty() {
                out.raw_lines(&code);
                out.newline();
            }
            for _ in 0..fence {
                out.buf.push('`');
            }
        }
        BlockKind::Equation(e) => {
            out.buf.push_str("$$");
            out.newline();
            let expr = e.expression.trim();
            let mut first = true;
            for line in expr.lines().filter(|l| !l.trim().is_empty()) {
                if !first {
                    out.newline();
                }
                first = false;
                out.buf.push_str(line.trim_end());
            }
            out.newline();
            out.buf.push_str("$$");
        }
        BlockKind::Divider(_) => out.buf.push_str("---"),
        BlockKind::Breadcrumb(_) => out.buf.push_str("<!-- breadcrumb -->"),
        BlockKind::TableOfContents(_) => out.buf.push_str("<!-- table_of_contents -->"),
        BlockKind::Table(t) => render_table(out, ctx, t.table_width, t.has_column_header, kids),
        BlockKind::TableRow(_) => {
            render_table(out, ctx, None, Some(true), std::slice::from_ref(node));
        }
        BlockKind::ColumnList(_) => {
            out.buf.push_str("<!-- columns -->");
            for col in kids {
                if col.block().is_in_trash() {
                    continue;
                }
                out.blank_line();
                if matches!(col.block().kind, BlockKind::Column(_)) {
                    if !ctx.admit() {
                        break;
                    }
                    out.buf.push_str("<!-- column -->");
                    let inner = col.kids(ctx.src);
                    if !inner.is_empty() {
                        out.blank_line();
                        render_seq(out, ctx, inner);
                    }
                } else {
                    render_seq(out, ctx, std::slice::from_ref(col));
                }
            }
            out.blank_line();
            out.buf.push_str("<!-- /columns -->");
        }
        BlockKind::Column(_) => {
            out.buf.push_str("<!-- column -->");
            render_after(out, ctx, kids);
        }
        BlockKind::Image(f) => {
            out.buf.push_str("![");
            let mut alt = String::new();
            if let Some(c) = &f.caption {
                push_plain(&mut alt, c);
            }
            out.content_start();
            out.text(&alt.replace(['\n', '\r'], " "));
            out.buf.push_str("](");
            push_url(out, f.url().unwrap_or(""));
            out.buf.push(')');
        }
        BlockKind::Video(f) | BlockKind::Pdf(f) | BlockKind::Audio(f) | BlockKind::File(f) => {
            let label = file_label(f, block.kind_name());
            write_link(out, &label, f.url().unwrap_or(""));
        }
        BlockKind::Bookmark(u) | BlockKind::Embed(u) | BlockKind::LinkPreview(u) => {
            let url = u.url.as_deref().unwrap_or("");
            let mut caption = String::new();
            if let Some(c) = &u.caption {
                push_plain(&mut caption, c);
            }
            let autolink_ok = !url.is_empty()
                && url.contains(':')
                && !url
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
            if caption.trim().is_empty() && autolink_ok {
                out.buf.push('<');
                out.buf.push_str(url);
                out.buf.push('>');
            } else {
                let text = if caption.trim().is_empty() {
                    url.to_string()
                } else {
                    caption.replace(['\n', '\r'], " ")
                };
                write_link(out, &text, url);
            }
        }
        BlockKind::ChildPage(t) | BlockKind::ChildDatabase(t) => {
            let title = if t.title.is_empty() {
                "Untitled"
            } else {
                &t.title
            };
            push_notion_link(out, title, block.id.as_str());
        }
        BlockKind::LinkToPage(l) => match &l.target {
            LinkToPageKind::PageId(id) => push_notion_link(out, "Linked page", id.as_str()),
            LinkToPageKind::DatabaseId(id) => push_notion_link(out, "Linked database", id.as_str()),
            LinkToPageKind::CommentId(id) => {
                out.buf.push_str("<!-- link to comment ");
                out.buf.push_str(id.as_str());
                out.buf.push_str(" -->");
            }
            _ => placeholder(out, ctx, "link_to_page", &block.id),
        },
        BlockKind::SyncedBlock(_) => {
            if kids.iter().any(|k| !k.block().is_in_trash()) {
                render_seq(out, ctx, kids);
            } else {
                out.buf.push_str("<!-- synced_block -->");
            }
        }
        BlockKind::Tab(_) => {
            let mut first = true;
            for item in kids {
                if item.block().is_in_trash() {
                    continue;
                }
                if !first {
                    out.blank_line();
                }
                first = false;
                if let BlockKind::Paragraph(p) = &item.block().kind {
                    if !ctx.admit() {
                        break;
                    }
                    let rt = p.rich_text.as_ref();
                    details(
                        out,
                        ctx,
                        &|out, ctx| write_rt(out, ctx, rt),
                        item.kids(ctx.src),
                    );
                } else {
                    render_seq(out, ctx, std::slice::from_ref(item));
                }
            }
            if first {
                out.buf.push_str("<!-- tab -->");
            }
        }
        BlockKind::MeetingNotes(m) | BlockKind::Transcription(m) => {
            render_meeting_notes(out, ctx, m, kids);
        }
        BlockKind::Unsupported(u) => {
            let ty = u.block_type.as_deref().unwrap_or("unsupported");
            placeholder(out, ctx, ty, &block.id);
        }
        _ => {
            let ty = block.kind_name().to_string();
            placeholder(out, ctx, &ty, &block.id);
        }
    }
}

fn render_meeting_notes<N: Node>(
    out: &mut Out<'_>,
    ctx: &mut Ctx<'_>,
    m: &MeetingNotesBlock,
    kids: &[N],
) {
    let transcript = m
        .children
        .as_ref()
        .and_then(|c| c.transcript_block_id.as_ref())
        .cloned();
    let shown: Vec<&N> = kids
        .iter()
        .filter(|k| ctx.opts.include_transcript || transcript.as_ref() != Some(&k.block().id))
        .collect();
    out.buf.push_str("<details>");
    out.newline();
    out.buf.push_str("<summary>");
    let mode = out.mode;
    out.mode = Mode::Inline;
    match m.title.as_ref().filter(|t| !t.is_empty()) {
        Some(t) => write_rich_text(out, t, ctx.opts),
        None => out.buf.push_str("Meeting notes"),
    }
    out.mode = mode;
    out.buf.push_str("</summary>");
    out.blank_line();
    if let Some(ev) = m.calendar_event.as_ref()
        && let Some(start) = ev.start_time.as_ref()
    {
        out.content_start();
        out.text(start);
        if let Some(end) = ev.end_time.as_ref() {
            out.text(" → ");
            out.text(end);
        }
        out.blank_line();
    }
    for k in shown {
        render_seq(out, ctx, std::slice::from_ref(k));
        out.blank_line();
    }
    out.buf.push_str("</details>");
}

fn alert_kind(color: Option<&Color>) -> &'static str {
    match color {
        Some(Color::Green | Color::GreenBackground) => "TIP",
        Some(Color::Purple | Color::PurpleBackground) => "IMPORTANT",
        Some(Color::Yellow | Color::YellowBackground | Color::Orange | Color::OrangeBackground) => {
            "WARNING"
        }
        Some(Color::Red | Color::RedBackground) => "CAUTION",
        _ => "NOTE",
    }
}

fn render_table<N: Node>(
    out: &mut Out<'_>,
    ctx: &mut Ctx<'_>,
    width: Option<u64>,
    header: Option<bool>,
    rows: &[N],
) {
    let rows: Vec<&N> = rows
        .iter()
        .filter(|r| !r.block().is_in_trash() && matches!(r.block().kind, BlockKind::TableRow(_)))
        .collect();
    let cells_of = |n: &N| match &n.block().kind {
        BlockKind::TableRow(r) => r.cells.len(),
        _ => 0,
    };
    let width = rows
        .iter()
        .map(|r| cells_of(r))
        .max()
        .unwrap_or(0)
        .max(usize::try_from(width.unwrap_or(0)).unwrap_or(0).min(1000))
        .max(1);
    let mode = out.mode;
    out.mode = Mode::Inline;
    let write_row = |out: &mut Out<'_>, ctx: &Ctx<'_>, cells: Option<&[Vec<RichText>]>| {
        out.buf.push('|');
        for i in 0..width {
            out.buf.push(' ');
            if let Some(cell) = cells.and_then(|c| c.get(i)) {
                write_rich_text(out, cell, ctx.opts);
            }
            out.buf.push_str(" |");
        }
    };
    let mut body = rows.as_slice();
    if header == Some(true) && !rows.is_empty() {
        if ctx.admit()
            && let BlockKind::TableRow(r) = &rows[0].block().kind
        {
            write_row(out, ctx, Some(&r.cells));
        }
        body = &rows[1..];
    } else {
        write_row(out, ctx, None);
    }
    out.newline();
    out.buf.push('|');
    for _ in 0..width {
        out.buf.push_str(" --- |");
    }
    for r in body {
        if !ctx.admit() {
            break;
        }
        out.newline();
        if let BlockKind::TableRow(row) = &r.block().kind {
            write_row(out, ctx, Some(&row.cells));
        }
    }
    out.mode = mode;
}

/// Renders blocks (and their descendants from `source`) as plain text: one line per block,
/// children indented by two spaces, list markers kept, table cells separated by tabs.
pub fn render_plain_text(
    blocks: &[Block],
    source: &dyn ChildSource,
    opts: &RenderOptions,
) -> String {
    let mut s = String::new();
    plain_seq(&mut s, source, blocks, 0, opts);
    s
}

/// Renders an owned block tree as plain text.
pub fn render_nodes_plain_text(nodes: &[BlockNode], opts: &RenderOptions) -> String {
    let mut s = String::new();
    plain_seq(&mut s, &NoChildren, nodes, 0, opts);
    s
}

fn plain_seq<N: Node>(
    s: &mut String,
    src: &dyn ChildSource,
    nodes: &[N],
    depth: usize,
    opts: &RenderOptions,
) {
    if depth >= opts.max_depth {
        return;
    }
    let mut number = 0u64;
    let mut prev_numbered = false;
    for node in nodes {
        let b = node.block();
        if b.is_in_trash() {
            continue;
        }
        let start = s.len();
        for _ in 0..depth {
            s.push_str("  ");
        }
        let indent_end = s.len();
        let mut numbered = false;
        match &b.kind {
            BlockKind::BulletedListItem(_) => s.push_str("- "),
            BlockKind::ToDo(t) => s.push_str(if t.checked == Some(true) {
                "[x] "
            } else {
                "[ ] "
            }),
            BlockKind::NumberedListItem(n) => {
                number = if prev_numbered {
                    number.saturating_add(1)
                } else {
                    n.list_start_index.unwrap_or(1)
                };
                s.push_str(&number.to_string());
                s.push_str(". ");
                numbered = true;
            }
            _ => {}
        }
        prev_numbered = numbered;
        match &b.kind {
            BlockKind::Code(c) => {
                if let Some(rt) = &c.rich_text {
                    push_plain(s, rt);
                }
            }
            BlockKind::Equation(e) => s.push_str(&e.expression),
            BlockKind::TableRow(r) => {
                for (i, cell) in r.cells.iter().enumerate() {
                    if i > 0 {
                        s.push('\t');
                    }
                    push_plain(s, cell);
                }
            }
            BlockKind::ChildPage(t) | BlockKind::ChildDatabase(t) => s.push_str(&t.title),
            BlockKind::Image(f)
            | BlockKind::Video(f)
            | BlockKind::Pdf(f)
            | BlockKind::Audio(f)
            | BlockKind::File(f) => {
                let label = file_label(f, b.kind_name());
                s.push_str(&label);
                if let Some(url) = f.url() {
                    s.push_str(" (");
                    s.push_str(url);
                    s.push(')');
                }
            }
            BlockKind::Bookmark(u) | BlockKind::Embed(u) | BlockKind::LinkPreview(u) => {
                s.push_str(u.url.as_deref().unwrap_or(""));
            }
            BlockKind::Callout(c) => {
                if let Some(IconKind::Emoji(e)) = c.icon.as_ref().map(|i| &i.kind) {
                    s.push_str(e);
                    s.push(' ');
                }
                if let Some(rt) = &c.rich_text {
                    push_plain(s, rt);
                }
            }
            BlockKind::MeetingNotes(m) | BlockKind::Transcription(m) => {
                if let Some(t) = &m.title {
                    push_plain(s, t);
                }
            }
            BlockKind::Divider(_) => s.push_str("---"),
            kind => {
                if let Some(rt) = kind.rich_text() {
                    push_plain(s, rt);
                }
            }
        }
        let kids = node.kids(src);
        if s.len() == indent_end && !matches!(b.kind, BlockKind::Paragraph(_)) {
            s.truncate(start);
        } else {
            s.push('\n');
        }
        let child_depth = if s.len() == start { depth } else { depth + 1 };
        plain_seq(s, src, kids, child_depth, opts);
    }
}
