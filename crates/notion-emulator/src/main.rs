//! `notion-emulator`: run the in-memory Notion API standalone.
fn main() {}
