//! Shared helpers: the fixtures folder and JSON walking.

use std::path::{Path, PathBuf};

use notion_client::models::Block;
use serde_json::Value;

/// The fixtures folder (`$NOTION_FIXTURES_DIR` or `../../../shared/notion-fixtures`); panics
/// when it is missing so that the fixture tests cannot silently pass.
pub fn fixtures_dir() -> PathBuf {
    let dir = std::env::var_os("NOTION_FIXTURES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/notion-fixtures"
            ))
        });
    assert!(
        dir.join("responses").is_dir(),
        "fixtures folder missing: {}",
        dir.display()
    );
    dir
}

/// Every `.json` file below `dir`, sorted.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Reads a fixture by its path below `responses/`.
pub fn fixture(rel: &str) -> Value {
    let path = fixtures_dir().join("responses").join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every JSON object with `"object": "block"` inside a value.
pub fn block_values(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(m) => {
            if m.get("object").and_then(Value::as_str) == Some("block")
                && m.contains_key("type")
                && m.contains_key("id")
            {
                out.push(v.clone());
            }
            for x in m.values() {
                block_values(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| block_values(x, out)),
        _ => {}
    }
}

/// Parses a block, panicking with context.
pub fn block(v: &Value) -> Block {
    let mut v = v.clone();
    fix_ids(&mut v);
    let v = &v;
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("block does not parse: {e}\n{v:#}"))
}

/// Replaces placeholder ids of documentation samples (such as `"block_id"`) by a valid one.
pub fn fix_ids(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if (k == "id" || k.ends_with("_id")) && x.is_string() {
                    let s = x.as_str().unwrap_or_default();
                    if notion_client::ids::BlockId::parse(s).is_err()
                        && k != "request_id"
                        && k != "property_id"
                    {
                        *x = Value::String("0f0e0d0c-0b0a-4909-8807-060504030201".into());
                    }
                } else {
                    fix_ids(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(fix_ids),
        _ => {}
    }
}
