//! Notion blocks ⇄ Markdown, rich text and property flattening. Pure functions, no IO.
//!
//! The converter arrives with the content issue; this crate exists so that the workspace has
//! its final shape from the start.
