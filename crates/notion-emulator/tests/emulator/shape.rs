//! Shape comparison shared by the fidelity tests (`fidelity.rs`, hand-chosen cases, and
//! `replay.rs`, the recorded request sequences): responses are compared with recorded
//! fixtures by **key paths and JSON value types** (not values).
//!
//! Shapes: object keys are joined with `.`, arrays collapse to `[]`, and an object that is a
//! discriminated union (`{"type": "x", "x": …}` — blocks, parents, rich text, mentions, icons,
//! files, users, property values and configurations) adds a `<x>` marker to its path, so
//! `parent<page_id>.page_id` and `parent<block_id>.block_id` are different variants. The keys
//! of `properties` maps (user-chosen names) become `*`.
//!
//! Rules:
//! - every fixture path must exist in the emulator's response with a compatible type (`null`
//!   matches any type);
//! - the emulator must not emit paths the fixture lacks, except an explicit allow-list;
//! - array elements carrying an `object` field get an `<object>` marker as well;
//! - paths under a union variant that only one side has, or under an array that is empty on
//!   the other side, cannot be compared and are skipped (values differ between workspaces).
//!
//! [`score`] turns the first rule into a number: the fraction of the fixture's comparable key
//! paths that the emulator's answer has with a compatible type.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::Value;

pub type Shape = BTreeMap<String, BTreeSet<&'static str>>;

pub fn fixtures_dir() -> PathBuf {
    if let Ok(d) = std::env::var("NOTION_FIXTURES_DIR") {
        // The fixtures' root (as the client's tests take it) or its `responses` folder.
        let d = PathBuf::from(d);
        let responses = d.join("responses");
        return if responses.is_dir() { responses } else { d };
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/notion-fixtures/responses")
}

pub fn load(rel: &str) -> Value {
    let p = fixtures_dir().join(rel);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
    serde_json::from_str(&text).expect("fixture json")
}

pub fn recorded_version(rel: &str) -> Option<String> {
    let name = rel
        .strip_prefix("notion_ruby_mapping/")?
        .strip_suffix(".json")?;
    let idx = load("notion_ruby_mapping/_requests_index.json");
    idx.get(name)?["notion_version"]
        .as_str()
        .map(str::to_string)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn shape_into(v: &Value, path: &str, out: &mut Shape) {
    out.entry(path.to_string())
        .or_default()
        .insert(type_name(v));
    match v {
        Value::Object(m) => {
            // Array elements of different object kinds (`page` and `database` in one search
            // result list) are kept apart by their `object` field.
            let path = match m.get("object").and_then(Value::as_str) {
                Some(o) if path.ends_with("[]") => {
                    let b = format!("{path}<{o}>");
                    out.entry(b.clone()).or_default().insert("variant");
                    b
                }
                _ => path.to_string(),
            };
            let path = path.as_str();
            let disc = m
                .get("type")
                .and_then(Value::as_str)
                .filter(|t| m.contains_key(*t) && *t != "type");
            let base = match disc {
                Some(d) => {
                    let b = format!("{path}<{d}>");
                    out.entry(b.clone()).or_default().insert("variant");
                    b
                }
                None => path.to_string(),
            };
            let is_props = path.ends_with(".properties");
            for (k, x) in m {
                let key = if is_props { "*" } else { k.as_str() };
                shape_into(x, &format!("{base}.{key}"), out);
            }
        }
        Value::Array(a) => {
            for x in a {
                shape_into(x, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

pub fn shape(v: &Value) -> Shape {
    let mut s = Shape::new();
    shape_into(v, "$", &mut s);
    s
}

/// True when `p` lies under a variant marker or an array that `other` cannot compare.
fn incomparable(p: &str, this: &Shape, other: &Shape) -> bool {
    for (i, c) in p.char_indices() {
        // Below a value that is only ever `null` on the other side there is nothing to compare.
        if matches!(c, '.' | '[' | '<')
            && i > 0
            && let Some(t) = other.get(&p[..i])
            && t.iter().all(|x| *x == "null")
        {
            return true;
        }
        if c == '>' {
            let q = &p[..=i];
            if !other.contains_key(q) {
                return true;
            }
        }
        if p[i..].starts_with("[]") {
            let arr = &p[..i];
            let elem = format!("{arr}[]");
            let other_has = other.keys().any(|k| k.starts_with(&elem));
            let this_has = this.keys().any(|k| k.starts_with(&elem));
            if this_has && !other_has {
                return true;
            }
        }
    }
    false
}

/// The path without union-variant markers (`$<paragraph>.in_trash` → `$.in_trash`).
fn plain_path(p: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in p.chars() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Allow-list entries are written without variant markers and match the path and below.
fn allowed(p: &str, allow: &[&str]) -> bool {
    let p = plain_path(p);
    let p = p.as_str();
    allow.iter().any(|a| {
        p == *a
            || (p.starts_with(a)
                && matches!(
                    p.as_bytes().get(a.len()),
                    Some(b'.') | Some(b'[') | Some(b'<')
                ))
    })
}

fn compatible(a: &BTreeSet<&'static str>, b: &BTreeSet<&'static str>) -> bool {
    let strip = |s: &BTreeSet<&'static str>| -> BTreeSet<&'static str> {
        s.iter()
            .copied()
            .filter(|t| *t != "null" && *t != "variant")
            .collect()
    };
    let (a, b) = (strip(a), strip(b));
    a.is_empty() || b.is_empty() || !a.is_disjoint(&b)
}

pub fn compare(fixture: &Value, emu: &Value, allow: &[&str]) -> Vec<String> {
    let f = shape(fixture);
    let e = shape(emu);
    let mut problems = Vec::new();
    for (p, ft) in &f {
        if incomparable(p, &f, &e) {
            continue;
        }
        match e.get(p) {
            None => problems.push(format!("missing {p} ({ft:?})")),
            Some(et) if !compatible(ft, et) => {
                problems.push(format!("type of {p}: fixture {ft:?}, emulator {et:?}"))
            }
            _ => {}
        }
    }
    for (p, et) in &e {
        if f.contains_key(p) || incomparable(p, &e, &f) || allowed(p, allow) {
            continue;
        }
        problems.push(format!("extra {p} ({et:?})"));
    }
    problems
}

/// The shape score of `emu` against `fixture`: `(matched, total)`, where `total` counts the
/// fixture's comparable key paths and `matched` those present in `emu` with a compatible type.
/// The score is `matched / total` (1.0 when nothing is comparable).
pub fn score(fixture: &Value, emu: &Value) -> (usize, usize) {
    let f = shape(fixture);
    let e = shape(emu);
    let mut total = 0;
    let mut matched = 0;
    for (p, ft) in &f {
        if incomparable(p, &f, &e) {
            continue;
        }
        total += 1;
        if e.get(p).is_some_and(|et| compatible(ft, et)) {
            matched += 1;
        }
    }
    (matched, total)
}

/// The fixture paths `emu` misses or types differently (for reports).
pub fn misses(fixture: &Value, emu: &Value) -> Vec<String> {
    compare(fixture, emu, &["$"])
}
