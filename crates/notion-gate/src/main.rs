//! `notion-gate`: the command-line entry point. Thin: parsing and dispatch only.
fn main() {}
