//! Notion blocks ⇄ Markdown, rich text and property flattening. Pure functions, no IO.
//!
//! - **Reading**: [`render_markdown`] turns a block tree (top-level blocks plus a
//!   [`ChildSource`] that yields the children of a block) into GitHub-flavoured Markdown, and
//!   [`render_plain_text`] into plain text. [`render_nodes`] does the same for an owned
//!   [`BlockNode`] tree. Rendering never fails: a block it cannot render becomes a visible
//!   `<!-- unsupported block: TYPE (id) -->` comment and its id is reported in
//!   [`Rendered::unknown_block_ids`].
//! - **Writing**: [`parse_markdown`] turns Markdown into [`BlockDraft`]s (blocks with their
//!   children at any depth), [`plan_writes`] splits them into a [`WritePlan`] of append
//!   requests that each respect Notion's limits, and [`execute_plan`] runs the plan through
//!   any async `append` function and reports partial success.
//! - **Properties**: [`flatten_property`], [`flatten_page`] and [`flatten_schema`] turn page
//!   property values and data-source schemas into plain JSON values and short texts.
//!
//! # Markdown dialect
//!
//! The output is GitHub-flavoured Markdown with a few HTML conventions, all of which
//! [`parse_markdown`] reads back, so that Markdown → blocks → Markdown is stable:
//!
//! | Notion | Markdown |
//! |---|---|
//! | underline | `<u>…</u>` |
//! | colour (with [`RenderOptions::colors`]) | `<span style="color:red">…</span>`, `<span style="background-color:red">…</span>` |
//! | inline equation | `$…$` |
//! | equation block | `$$` newline expression newline `$$` |
//! | toggle, toggleable heading | `<details>` / `<summary>…</summary>` (headings as `<summary><h2>…</h2></summary>`) |
//! | callout | a GitHub alert (`> [!NOTE]`, `[!TIP]` for green, `[!IMPORTANT]` purple, `[!WARNING]` yellow/orange, `[!CAUTION]` red) whose first line starts with the emoji icon |
//! | bookmark/embed without caption | `<https://…>` autolink alone in a paragraph |
//! | page and database mentions, child pages | `[title](https://www.notion.so/<id>)` |
//! | columns | `<!-- columns -->`, `<!-- column -->` … `<!-- /columns -->` around the content |
//! | breadcrumb, table of contents | `<!-- breadcrumb -->`, `<!-- table_of_contents -->` |
//! | empty paragraph (with [`RenderOptions::empty_paragraphs`]) | `<empty-block/>` |

mod error;
mod inline;
mod lang;
mod parse;
mod plan;
mod props;
mod render;
mod tree;

pub use error::{ExecuteError, PartialWrite};
pub use inline::{rich_text_to_markdown, rich_text_to_plain_text};
pub use lang::{language_from_markdown, language_to_markdown};
pub use parse::{BlockDraft, drafts_to_nodes, parse_markdown, parse_markdown_json};
pub use plan::{
    AppendStep, Limits, PlanReport, Target, WritePlan, execute_plan, plan_markdown, plan_writes,
    split_rich_text,
};
pub use props::{
    FlatProperty, flatten_page, flatten_page_text, flatten_property, flatten_property_configs,
    flatten_schema,
};
pub use render::{
    RenderOptions, Rendered, render_json, render_markdown, render_markdown_into, render_nodes,
    render_nodes_plain_text, render_plain_text,
};
pub use tree::{BlockNode, ChildSource, NoChildren, block_from_json};
