//! Rich text: text (with link), mentions of every kind, and equations, with annotations.

use serde_json::Map;

use super::common::{Color, CustomEmoji, DateValue};
use super::union::{Extra, Maybe};
use super::user::User;
use crate::ids::{DatabaseId, PageId};

notion_object! {
    /// Text annotations. Absent flags read as `false`.
    #[derive(Default)]
    pub struct Annotations {
        /// Bold.
        pub bold: bool,
        /// Italic.
        pub italic: bool,
        /// Strikethrough.
        pub strikethrough: bool,
        /// Underline.
        pub underline: bool,
        /// Inline code.
        pub code: bool,
        /// Text or background colour.
        pub color: Color,
    }
}

notion_object! {
    /// A link: `{url}`.
    pub struct Link {
        /// The target URL.
        pub url: String => required,
    }
}

notion_object! {
    /// The `text` part of a text run: `{content, link}`.
    pub struct TextContent {
        /// The text (at most 2000 characters in requests).
        pub content: String => required,
        /// The link, if any.
        pub link: Maybe<Link>,
    }
}

notion_object! {
    /// An equation: `{expression}` (KaTeX).
    pub struct Equation {
        /// The KaTeX expression.
        pub expression: String => required,
    }
}

notion_object! {
    /// A reference to a page: `{id}`.
    pub struct PageRef {
        /// The page ID.
        pub id: PageId => required,
    }
}

impl PageRef {
    /// A reference to `id`.
    pub fn new(id: PageId) -> Self {
        Self {
            id,
            extra: Map::new(),
        }
    }
}

notion_object! {
    /// A reference to a database: `{id}`.
    pub struct DatabaseRef {
        /// The database ID.
        pub id: DatabaseId => required,
    }
}

notion_object! {
    /// A URL-only object: `{url}` (link previews).
    pub struct UrlObject {
        /// The URL.
        pub url: String => required,
    }
}

notion_object! {
    /// A link mention: `{href, title?, description?, link_author?, link_provider?, thumbnail_url?,
    /// icon_url?, …}`.
    pub struct LinkMention {
        /// The link target.
        pub href: String => required,
        /// The page title.
        pub title: Option<String>,
        /// The page description.
        pub description: Option<String>,
        /// The author.
        pub link_author: Option<String>,
        /// The provider.
        pub link_provider: Option<String>,
        /// A thumbnail URL.
        pub thumbnail_url: Option<String>,
        /// An icon URL.
        pub icon_url: Option<String>,
    }
}

notion_union! {
    /// The kind of a template mention.
    pub enum TemplateMentionKind {
        /// `template_mention_date`: `today` or `now`.
        TemplateMentionDate = "template_mention_date" (String),
        /// `template_mention_user`: `me`.
        TemplateMentionUser = "template_mention_user" (String),
    }
}

notion_object! {
    /// A template mention: `{type, <type>: value}`.
    pub struct TemplateMention {
        @required
        /// The kind and value.
        pub kind: TemplateMentionKind,
    }
}

notion_union! {
    /// The kind of a mention.
    pub enum MentionKind {
        /// `user`: a partial or full user.
        User = "user" (User),
        /// `page`: `{id}`.
        Page = "page" (PageRef),
        /// `database`: `{id}`.
        Database = "database" (DatabaseRef),
        /// `date`.
        Date = "date" (DateValue),
        /// `link_preview`: `{url}`.
        LinkPreview = "link_preview" (UrlObject),
        /// `link_mention`.
        LinkMention = "link_mention" (LinkMention),
        /// `template_mention`.
        TemplateMention = "template_mention" (TemplateMention),
        /// `custom_emoji`.
        CustomEmoji = "custom_emoji" (CustomEmoji),
    }
}

notion_object! {
    /// A mention: `{type, <type>: …}`.
    pub struct Mention {
        @required
        /// The kind and value.
        pub kind: MentionKind,
    }
}

impl Mention {
    /// A mention of the given kind.
    pub fn new(kind: MentionKind) -> Self {
        Self {
            kind,
            extra: Extra::default(),
        }
    }
}

notion_union! {
    /// The kind of a rich-text item.
    pub enum RichTextKind {
        /// `text`
        Text = "text" (TextContent),
        /// `mention`
        Mention = "mention" (Mention),
        /// `equation`
        Equation = "equation" (Equation),
    }
}

notion_object! {
    /// One rich-text item. Requests may omit `plain_text`, `href` and `annotations`.
    pub struct RichText {
        @required
        /// Text, mention or equation.
        pub kind: RichTextKind,
        /// The annotations.
        pub annotations: Option<Annotations>,
        /// The rendered text (responses).
        pub plain_text: Option<String>,
        /// The link target (responses; `null` when none).
        pub href: Maybe<String>,
    }
}

impl RichText {
    /// A rich-text item of the given kind, for requests.
    pub fn new(kind: RichTextKind) -> Self {
        Self {
            kind,
            annotations: None,
            plain_text: None,
            href: Maybe::Absent,
            extra: Extra::default(),
        }
    }

    /// A plain text run for requests: `{type: "text", text: {content}}`.
    pub fn plain(text: impl Into<String>) -> Self {
        Self::new(RichTextKind::Text(TextContent {
            content: text.into(),
            link: Maybe::Absent,
            extra: Map::new(),
        }))
    }

    /// A linked text run for requests.
    pub fn link(text: impl Into<String>, url: impl Into<String>) -> Self {
        Self::new(RichTextKind::Text(TextContent {
            content: text.into(),
            link: Maybe::Value(Link {
                url: url.into(),
                extra: Map::new(),
            }),
            extra: Map::new(),
        }))
    }

    /// An inline equation for requests.
    pub fn equation(expression: impl Into<String>) -> Self {
        Self::new(RichTextKind::Equation(Equation {
            expression: expression.into(),
            extra: Map::new(),
        }))
    }

    /// A mention for requests.
    pub fn mention(kind: MentionKind) -> Self {
        Self::new(RichTextKind::Mention(Mention::new(kind)))
    }

    /// Sets the annotations (builder).
    pub fn with_annotations(mut self, annotations: Annotations) -> Self {
        self.annotations = Some(annotations);
        self
    }

    /// Makes the run bold (builder).
    pub fn bold(mut self) -> Self {
        self.annotations
            .get_or_insert_with(Annotations::default)
            .bold = true;
        self
    }

    /// Makes the run italic (builder).
    pub fn italic(mut self) -> Self {
        self.annotations
            .get_or_insert_with(Annotations::default)
            .italic = true;
        self
    }

    /// Makes the run inline code (builder).
    pub fn code(mut self) -> Self {
        self.annotations
            .get_or_insert_with(Annotations::default)
            .code = true;
        self
    }

    /// Sets the colour (builder).
    pub fn color(mut self, color: Color) -> Self {
        self.annotations
            .get_or_insert_with(Annotations::default)
            .color = color;
        self
    }

    /// The rendered text: `plain_text` when present, else the text content or the equation.
    pub fn plain_text(&self) -> String {
        if let Some(text) = &self.plain_text {
            return text.clone();
        }
        match &self.kind {
            RichTextKind::Text(t) => t.content.clone(),
            RichTextKind::Equation(e) => e.expression.clone(),
            _ => String::new(),
        }
    }

    /// The mention, if this is one.
    pub fn as_mention(&self) -> Option<&Mention> {
        match &self.kind {
            RichTextKind::Mention(m) => Some(m),
            _ => None,
        }
    }
}

/// Joins the plain text of a rich-text array.
pub fn plain_text(items: &[RichText]) -> String {
    items.iter().map(RichText::plain_text).collect()
}

/// The most characters one text run of a request may hold (reference §7.2).
pub const MAX_TEXT_CHARS: usize = 2000;

/// Plain text as request rich text: runs of at most [`MAX_TEXT_CHARS`] characters (none for
/// an empty string), so that text of any length is accepted.
pub fn text_runs(text: &str) -> Vec<RichText> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(MAX_TEXT_CHARS)
        .map(|run| RichText::plain(run.iter().collect::<String>()))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn text_runs_split_at_the_limit() {
        assert!(text_runs("").is_empty());
        let runs = text_runs(&"é".repeat(MAX_TEXT_CHARS + 1));
        assert_eq!(runs.len(), 2);
        assert_eq!(
            serde_json::to_value(&runs[1]).unwrap(),
            json!({"type": "text", "text": {"content": "é"}})
        );
    }

    #[test]
    fn unknown_mention_type_survives() {
        let original = json!({
            "type": "mention",
            "mention": {"type": "telepathy", "telepathy": {"thought": 42}},
            "annotations": {"bold": false, "italic": false, "strikethrough": false,
                            "underline": false, "code": false, "color": "red_background"},
            "plain_text": "?",
            "href": null
        });
        let rt: RichText = serde_json::from_value(original.clone()).unwrap();
        let mention = rt.as_mention().expect("a mention");
        assert!(mention.kind.is_unknown());
        assert_eq!(mention.kind.type_name(), "telepathy");
        assert_eq!(
            rt.annotations.as_ref().map(|a| &a.color),
            Some(&Color::RedBackground)
        );
        assert_eq!(serde_json::to_value(&rt).unwrap(), original);
    }

    #[test]
    fn unknown_colour_is_kept() {
        let color: Color = serde_json::from_value(json!("teal_background")).unwrap();
        assert_eq!(color, Color::Other("teal_background".into()));
        assert_eq!(
            serde_json::to_value(&color).unwrap(),
            json!("teal_background")
        );
    }

    #[test]
    fn request_rich_text_omits_response_fields() {
        assert_eq!(
            serde_json::to_value(RichText::plain("Hi")).unwrap(),
            json!({"type": "text", "text": {"content": "Hi"}})
        );
        assert_eq!(
            serde_json::to_value(RichText::link("Hi", "https://example.com")).unwrap(),
            json!({"type": "text", "text": {"content": "Hi", "link": {"url": "https://example.com"}}})
        );
        assert_eq!(RichText::plain("Hi").plain_text(), "Hi");
    }

    #[test]
    fn template_mention_is_typed() {
        let original = json!({
            "type": "mention",
            "mention": {"type": "template_mention",
                        "template_mention": {"type": "template_mention_user", "template_mention_user": "me"}},
            "plain_text": "@me", "href": null
        });
        let rt: RichText = serde_json::from_value(original.clone()).unwrap();
        let Some(Mention {
            kind: MentionKind::TemplateMention(t),
            ..
        }) = rt.as_mention()
        else {
            panic!("not a template mention");
        };
        assert!(matches!(&t.kind, TemplateMentionKind::TemplateMentionUser(me) if me == "me"));
        assert_eq!(serde_json::to_value(&rt).unwrap(), original);
    }
}
