//! Rich text → Markdown (with every annotation, links, mentions and inline equations) and →
//! plain text, plus the line-prefix-aware output buffer shared with the block renderer.

use notion_client::models::{
    Color, Mention, MentionKind, RichText, RichTextKind, TemplateMentionKind,
};

use crate::render::RenderOptions;

/// Where inline text is being written: the context decides how line breaks are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Ordinary block text: a line break is a new line with the current prefix.
    Block,
    /// A table cell or an HTML `<summary>`: a line break is `<br>`.
    Inline,
}

/// The output buffer: one `String`, the prefix written at the start of every new line
/// (indentation, `> `), and the inline mode.
pub(crate) struct Out<'a> {
    pub buf: &'a mut String,
    pub prefix: String,
    pub mode: Mode,
    /// Whether the next text character starts a line (Markdown block syntax must be escaped).
    line_start: bool,
}

/// Bytes that may need escaping anywhere in text.
const fn special_table() -> [bool; 256] {
    let mut t = [false; 256];
    let specials = b"\\`*_[]<>|~$&#\n\r!";
    let mut i = 0;
    while i < specials.len() {
        t[specials[i] as usize] = true;
        i += 1;
    }
    t
}
static SPECIAL: [bool; 256] = special_table();

impl<'a> Out<'a> {
    pub fn new(buf: &'a mut String) -> Self {
        Self {
            buf,
            prefix: String::new(),
            mode: Mode::Block,
            line_start: true,
        }
    }

    /// Starts a new line (with the prefix).
    pub fn newline(&mut self) {
        self.buf.push('\n');
        self.buf.push_str(&self.prefix);
    }

    /// Writes a blank line (prefix trimmed) and starts a new line.
    pub fn blank_line(&mut self) {
        self.buf.push('\n');
        self.buf.push_str(self.prefix.trim_end());
        self.buf.push('\n');
        self.buf.push_str(&self.prefix);
    }

    /// Writes text verbatim, except that each line break starts a new prefixed line.
    pub fn raw_lines(&mut self, text: &str) {
        let mut first = true;
        for line in text.split('\n') {
            if !first {
                if line.is_empty() {
                    self.buf.push('\n');
                    self.buf.push_str(self.prefix.trim_end());
                } else {
                    self.newline();
                }
            }
            first = false;
            self.buf.push_str(line.strip_suffix('\r').unwrap_or(line));
        }
    }

    /// Marks the start of block content: Markdown block syntax at the start must be escaped.
    pub fn content_start(&mut self) {
        self.line_start = true;
    }

    fn line_break(&mut self) {
        match self.mode {
            Mode::Block => self.newline(),
            Mode::Inline => self.buf.push_str("<br>"),
        }
        self.line_start = true;
    }

    /// Writes text, escaping every Markdown metacharacter.
    pub fn text(&mut self, s: &str) {
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if self.line_start {
                i += self.line_start_char(&s[i..]);
                continue;
            }
            // Fast path: copy the run of ordinary bytes.
            let start = i;
            while i < bytes.len() && !SPECIAL[bytes[i] as usize] {
                i += 1;
            }
            if i > start {
                self.buf.push_str(&s[start..i]);
            }
            if i >= bytes.len() {
                break;
            }
            let b = bytes[i];
            match b {
                b'\n' => self.line_break(),
                b'\r' => {}
                b'&' => {
                    let next = bytes.get(i + 1).copied().unwrap_or(b' ');
                    if next.is_ascii_alphanumeric() || next == b'#' {
                        self.buf.push('\\');
                    }
                    self.buf.push('&');
                }
                b'#' => {
                    let prev_ws =
                        i == 0 || bytes[i - 1].is_ascii_whitespace() || self.buf.ends_with(' ');
                    if prev_ws {
                        self.buf.push('\\');
                    }
                    self.buf.push('#');
                }
                b'!' => {
                    // `![` cannot form (`[` is escaped), but a trailing `!` before a link
                    // written next could: escape it when it ends the text.
                    if i + 1 == bytes.len() {
                        self.buf.push('\\');
                    }
                    self.buf.push('!');
                }
                _ => {
                    self.buf.push('\\');
                    self.buf.push(b as char);
                }
            }
            i += 1;
        }
    }

    /// Writes the first character(s) of a line, escaping block syntax; returns the bytes used.
    fn line_start_char(&mut self, s: &str) -> usize {
        let Some(c) = s.chars().next() else { return 0 };
        match c {
            ' ' => {
                self.buf.push_str("&#32;");
                1
            }
            '\t' => {
                self.buf.push_str("&#9;");
                1
            }
            '#' | '>' | '-' | '+' | '=' | '*' | '_' | '`' | '~' | '<' | '[' | '|' | '$' | '\\'
            | '!' => {
                self.buf.push('\\');
                self.buf.push(c);
                self.line_start = false;
                1
            }
            '0'..='9' => {
                let digits = s.bytes().take_while(u8::is_ascii_digit).count();
                self.buf.push_str(&s[..digits]);
                if let Some(p @ (b'.' | b')')) = s.as_bytes().get(digits) {
                    self.buf.push('\\');
                    self.buf.push(*p as char);
                    self.line_start = false;
                    return digits + 1;
                }
                self.line_start = false;
                digits
            }
            '\n' => {
                self.line_break();
                1
            }
            _ => {
                self.line_start = false;
                0
            }
        }
    }
}

/// The style of a run: what surrounds its text.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
struct Style<'r> {
    bold: bool,
    italic: bool,
    strike: bool,
    underline: bool,
    code: bool,
    color: Option<&'r str>,
    link: Option<&'r str>,
}

impl Style<'_> {
    fn is_plain(&self) -> bool {
        *self == Style::default()
    }
}

fn style_of<'r>(rt: &'r RichText, opts: &RenderOptions) -> Style<'r> {
    let mut s = Style::default();
    if let Some(a) = &rt.annotations {
        s.bold = a.bold;
        s.italic = a.italic;
        s.strike = a.strikethrough;
        s.underline = a.underline;
        s.code = a.code;
        if opts.colors && a.color != Color::Default {
            s.color = Some(a.color.as_str());
        }
    }
    if let RichTextKind::Text(t) = &rt.kind {
        s.link = t.link.as_ref().map(|l| l.url.as_str());
        if s.link.is_none() {
            s.link = rt.href.as_ref().map(String::as_str);
        }
    } else {
        s.code = s.code && matches!(rt.kind, RichTextKind::Text(_));
    }
    s
}

fn is_punct(c: char) -> bool {
    c.is_ascii_punctuation() || (!c.is_ascii() && !c.is_alphanumeric() && !c.is_whitespace())
}

fn text_of(rt: &RichText) -> &str {
    match &rt.kind {
        RichTextKind::Text(t) => &t.content,
        RichTextKind::Equation(e) => &e.expression,
        _ => rt.plain_text.as_deref().unwrap_or(""),
    }
}

/// Writes a rich-text array as Markdown.
pub(crate) fn write_rich_text(out: &mut Out<'_>, items: &[RichText], opts: &RenderOptions) {
    out.content_start();
    let mut i = 0;
    let mut style = match items.first() {
        Some(first) => style_of(first, opts),
        None => return,
    };
    while i < items.len() {
        let is_text = matches!(items[i].kind, RichTextKind::Text(_));
        let mut j = i + 1;
        let mut next_style = Style::default();
        while j < items.len() {
            next_style = style_of(&items[j], opts);
            if !(is_text && matches!(items[j].kind, RichTextKind::Text(_)) && next_style == style) {
                break;
            }
            j += 1;
        }
        let next = items.get(j).and_then(|n| {
            let c = text_of(n).chars().next()?;
            if !c.is_whitespace() && !next_style.is_plain() {
                Some('*')
            } else if matches!(n.kind, RichTextKind::Mention(_) | RichTextKind::Equation(_)) {
                Some('[')
            } else {
                Some(c)
            }
        });
        if is_text {
            if j == i + 1 {
                write_text_run(out, text_of(&items[i]), style, next);
            } else {
                let joined: String = items[i..j].iter().map(text_of).collect();
                write_text_run(out, &joined, style, next);
            }
        } else {
            match &items[i].kind {
                RichTextKind::Equation(e) => {
                    let expr = e.expression.trim();
                    if !expr.is_empty() {
                        let html = open(out, style, '$', '$', next);
                        out.buf.push('$');
                        push_math(out, expr);
                        out.buf.push('$');
                        close(out, style, html);
                    }
                }
                RichTextKind::Mention(m) => {
                    let st = Style {
                        link: None,
                        ..style
                    };
                    let html = open(out, st, '@', '@', next);
                    write_mention(out, m, &items[i]);
                    close(out, st, html);
                }
                _ => out.text(items[i].plain_text.as_deref().unwrap_or("")),
            }
        }
        i = j;
        style = next_style;
    }
}

fn push_math(out: &mut Out<'_>, expr: &str) {
    for c in expr.chars() {
        match c {
            '\n' | '\r' => out.buf.push(' '),
            '$' => out.buf.push_str("\\$"),
            '|' if out.mode == Mode::Inline => out.buf.push_str("\\|"),
            _ => out.buf.push(c),
        }
    }
}

fn write_text_run(out: &mut Out<'_>, content: &str, style: Style<'_>, next: Option<char>) {
    if style.is_plain() {
        out.text(content);
        return;
    }
    if content.is_empty() {
        return;
    }
    let (lead, core, trail) = if style.code {
        ("", content, "")
    } else {
        let core = content.trim_matches(|c: char| c.is_whitespace());
        let lead_len = content.len() - content.trim_start_matches(char::is_whitespace).len();
        (
            &content[..lead_len],
            core,
            &content[lead_len + core.len()..],
        )
    };
    if core.is_empty() {
        out.text(content);
        return;
    }
    out.text(lead);
    let first = if style.code {
        '`'
    } else {
        core.chars().next().unwrap_or(' ')
    };
    let last = if style.code {
        '`'
    } else {
        core.chars().next_back().unwrap_or(' ')
    };
    let after = if trail.is_empty() { next } else { Some(' ') };
    let html = open(out, style, first, last, after);
    if style.code {
        write_code_span(out, core);
    } else {
        out.text(core);
    }
    close(out, style, html);
    out.text(trail);
}

fn write_code_span(out: &mut Out<'_>, code: &str) {
    let mut run = 0usize;
    let mut longest = 0usize;
    for c in code.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = longest + 1;
    let pad = code.starts_with('`')
        || code.ends_with('`')
        || (code.starts_with(' ') && code.ends_with(' ') && code.trim() != "");
    for _ in 0..fence {
        out.buf.push('`');
    }
    if pad {
        out.buf.push(' ');
    }
    for c in code.chars() {
        match c {
            '\n' | '\r' => out.buf.push(' '),
            '|' if out.mode == Mode::Inline => out.buf.push_str("\\|"),
            _ => out.buf.push(c),
        }
    }
    if pad {
        out.buf.push(' ');
    }
    for _ in 0..fence {
        out.buf.push('`');
    }
    out.line_start = false;
}

/// Writes the opening markers; returns whether HTML tags were used instead of delimiters
/// (when a delimiter run could not open or close next to punctuation).
fn open(out: &mut Out<'_>, style: Style<'_>, first: char, last: char, after: Option<char>) -> bool {
    out.line_start = false;
    let before = out.buf.chars().next_back();
    let open_ok = !is_punct(first) || before.is_none_or(|c| c.is_whitespace() || is_punct(c));
    let close_ok = !is_punct(last) || after.is_none_or(|c| c.is_whitespace() || is_punct(c));
    let html = !(open_ok && close_ok);
    if style.link.is_some() {
        out.buf.push('[');
    }
    if style.strike {
        out.buf.push_str(if html { "<s>" } else { "~~" });
    }
    if style.bold {
        out.buf.push_str(if html { "<strong>" } else { "**" });
    }
    if style.italic {
        out.buf.push_str(if html { "<em>" } else { "*" });
    }
    if style.underline {
        out.buf.push_str("<u>");
    }
    if let Some(color) = style.color {
        match color.strip_suffix("_background") {
            Some(bg) => {
                out.buf.push_str("<span style=\"background-color:");
                out.buf.push_str(bg);
            }
            None => {
                out.buf.push_str("<span style=\"color:");
                out.buf.push_str(color);
            }
        }
        out.buf.push_str("\">");
    }
    html
}

fn close(out: &mut Out<'_>, style: Style<'_>, html: bool) {
    if style.color.is_some() {
        out.buf.push_str("</span>");
    }
    if style.underline {
        out.buf.push_str("</u>");
    }
    if style.italic {
        out.buf.push_str(if html { "</em>" } else { "*" });
    }
    if style.bold {
        out.buf.push_str(if html { "</strong>" } else { "**" });
    }
    if style.strike {
        out.buf.push_str(if html { "</s>" } else { "~~" });
    }
    if let Some(url) = style.link {
        out.buf.push_str("](");
        push_url(out, url);
        out.buf.push(')');
    }
    out.line_start = false;
}

/// Writes a link destination: bare when safe, else in angle brackets.
pub(crate) fn push_url(out: &mut Out<'_>, url: &str) {
    let plain = !url.is_empty()
        && url.bytes().all(|b| {
            b > b' ' && b < 0x7f && !matches!(b, b'(' | b')' | b'<' | b'>' | b'\\' | b'|')
        });
    if plain {
        out.buf.push_str(url);
        return;
    }
    let needs_angle = url.is_empty()
        || url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '(' | ')' | '<' | '>'));
    if needs_angle {
        out.buf.push('<');
        for c in url.chars() {
            match c {
                '<' | '>' | '\\' => {
                    out.buf.push('\\');
                    out.buf.push(c);
                }
                '\n' | '\r' => out.buf.push_str("%0A"),
                '|' if out.mode == Mode::Inline => out.buf.push_str("%7C"),
                _ => out.buf.push(c),
            }
        }
        out.buf.push('>');
    } else {
        for c in url.chars() {
            match c {
                '\\' => out.buf.push_str("\\\\"),
                '|' if out.mode == Mode::Inline => out.buf.push_str("%7C"),
                _ => out.buf.push(c),
            }
        }
    }
}

/// Writes `[text](url)` with escaped text.
pub(crate) fn write_link(out: &mut Out<'_>, text: &str, url: &str) {
    out.buf.push('[');
    out.line_start = false;
    out.text(text);
    out.buf.push_str("](");
    push_url(out, url);
    out.buf.push(')');
}

/// The Notion URL of a page, database or block id: `https://www.notion.so/<32 hex>`.
pub(crate) fn push_notion_link(out: &mut Out<'_>, text: &str, id: &str) {
    out.buf.push('[');
    out.line_start = false;
    out.text(text);
    out.buf.push_str("](https://www.notion.so/");
    out.buf.extend(id.chars().filter(|c| *c != '-'));
    out.buf.push(')');
}

fn write_mention(out: &mut Out<'_>, m: &Mention, rt: &RichText) {
    let plain = rt.plain_text.as_deref();
    match &m.kind {
        MentionKind::User(u) => {
            let name = u.name.as_ref().map(String::as_str).or(plain);
            match name {
                Some(n) => {
                    if !n.starts_with('@') {
                        out.buf.push('@');
                    }
                    out.text(n);
                }
                None => {
                    out.buf.push('@');
                    out.text(u.id.as_str());
                }
            }
        }
        MentionKind::Page(p) => push_notion_link(
            out,
            plain.filter(|s| !s.is_empty()).unwrap_or("Untitled"),
            p.id.as_str(),
        ),
        MentionKind::Database(d) => push_notion_link(
            out,
            plain.filter(|s| !s.is_empty()).unwrap_or("Untitled"),
            d.id.as_str(),
        ),
        MentionKind::Date(d) => match plain {
            Some(p) if !p.is_empty() => out.text(p),
            _ => {
                out.text(&d.start);
                if let Some(end) = d.end.as_ref() {
                    out.text(" → ");
                    out.text(end);
                }
            }
        },
        MentionKind::LinkPreview(u) => write_link(out, plain.unwrap_or(&u.url), &u.url),
        MentionKind::LinkMention(l) => {
            let text = l.title.as_deref().or(plain).unwrap_or(&l.href);
            write_link(out, text, &l.href);
        }
        MentionKind::TemplateMention(t) => {
            let text = match &t.kind {
                TemplateMentionKind::TemplateMentionDate(d) => d.as_str(),
                TemplateMentionKind::TemplateMentionUser(u) => u.as_str(),
                _ => "template",
            };
            out.buf.push('@');
            out.text(text);
        }
        MentionKind::CustomEmoji(e) => {
            out.buf.push(':');
            out.text(e.name.as_deref().unwrap_or(&e.id));
            out.buf.push(':');
        }
        _ => out.text(plain.unwrap_or("")),
    }
    out.line_start = false;
}

/// Renders a rich-text array as Markdown (inline; line breaks as new lines).
pub fn rich_text_to_markdown(items: &[RichText], opts: &RenderOptions) -> String {
    let mut buf = String::new();
    let mut out = Out::new(&mut buf);
    write_rich_text(&mut out, items, opts);
    buf
}

/// Joins the plain text of a rich-text array (every segment, mentions as their text).
pub fn rich_text_to_plain_text(items: &[RichText]) -> String {
    let mut s = String::new();
    push_plain(&mut s, items);
    s
}

/// Appends the plain text of a rich-text array.
pub(crate) fn push_plain(s: &mut String, items: &[RichText]) {
    for rt in items {
        match (&rt.plain_text, &rt.kind) {
            (Some(p), _) => s.push_str(p),
            (None, RichTextKind::Text(t)) => s.push_str(&t.content),
            (None, RichTextKind::Equation(e)) => s.push_str(&e.expression),
            _ => {}
        }
    }
}
