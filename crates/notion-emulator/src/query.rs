//! Data source query filters (property, timestamp and compound `and`/`or` up to two levels)
//! and sorts, evaluated over stored page objects.

use std::cmp::Ordering;

use serde_json::Value;
use time::OffsetDateTime;

use crate::error::{ApiError, ApiResult};
use crate::store::Store;
use crate::util::{parse_date, parse_id, plain_text, short_json};

const DAY: i64 = 86_400;

/// Checks a filter's structure against a schema: nesting depth, known properties, operators.
pub fn validate_filter(f: &Value, schema: &Value, path: &str, depth: usize) -> ApiResult<()> {
    let Some(obj) = f.as_object() else {
        return Err(ApiError::validation(format!(
            "body failed validation: {path} should be an object, instead was `{}`.",
            short_json(f)
        )));
    };
    for key in ["and", "or"] {
        if let Some(sub) = obj.get(key) {
            if depth >= 2 {
                return Err(ApiError::validation(format!(
                    "body failed validation: {path}.{key} should be not present, instead was `{}`. Compound filters can be nested at most two levels deep.",
                    short_json(sub)
                )));
            }
            let arr = sub.as_array().ok_or_else(|| {
                ApiError::validation(format!(
                    "body failed validation: {path}.{key} should be an array, instead was `{}`.",
                    short_json(sub)
                ))
            })?;
            if arr.len() > 100 {
                return Err(ApiError::body_le(
                    &format!("{path}.{key}.length"),
                    100,
                    arr.len(),
                ));
            }
            for (i, x) in arr.iter().enumerate() {
                validate_filter(x, schema, &format!("{path}.{key}[{i}]"), depth + 1)?;
            }
            return Ok(());
        }
    }
    if let Some(ts) = obj.get("timestamp") {
        let ts = ts.as_str().unwrap_or_default();
        if ts != "created_time" && ts != "last_edited_time" {
            return Err(ApiError::validation(format!(
                "body failed validation: {path}.timestamp should be `created_time` or `last_edited_time`, instead was `\"{ts}\"`."
            )));
        }
        if !obj.contains_key(ts) {
            return Err(ApiError::body_undefined(&format!("{path}.{ts}")));
        }
        return Ok(());
    }
    let prop = obj
        .get("property")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::body_undefined(&format!("{path}.property")))?;
    if Store::schema_prop(schema, prop).is_none() {
        return Err(ApiError::validation(format!(
            "Could not find property with name or id: {prop}"
        )));
    }
    if !obj.keys().any(|k| k != "property" && k != "type") {
        return Err(ApiError::validation(format!(
            "body failed validation: {path} should define a filter condition for property `{prop}`."
        )));
    }
    Ok(())
}

/// Evaluates a (validated) filter on a stored page.
pub fn eval(f: &Value, page: &Value, schema: &Value, me: &str) -> bool {
    if let Some(arr) = f.get("and").and_then(Value::as_array) {
        return arr.iter().all(|x| eval(x, page, schema, me));
    }
    if let Some(arr) = f.get("or").and_then(Value::as_array) {
        return arr.iter().any(|x| eval(x, page, schema, me));
    }
    if let Some(ts) = f.get("timestamp").and_then(Value::as_str) {
        let v = page[ts].as_str().and_then(parse_date);
        return date_cond(v, &f[ts]);
    }
    let name = f["property"].as_str().unwrap_or_default();
    let Some((pname, _)) = Store::schema_prop(schema, name) else {
        return false;
    };
    let val = &page["properties"][pname.as_str()];
    let Some((_, cond)) = f
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| *k != "property" && *k != "type"))
    else {
        return true;
    };
    eval_value(val, cond, me)
}

/// Extracted comparable value of a property.
#[derive(Debug, Clone)]
enum Extracted {
    Text(Option<String>),
    Num(Option<f64>),
    Bool(bool),
    Date(Option<i64>),
    List(Vec<String>),
}

fn extract(val: &Value) -> Extracted {
    let ty = val["type"].as_str().unwrap_or_default();
    let inner = &val[ty];
    match ty {
        "title" | "rich_text" => {
            let t = plain_text(inner);
            Extracted::Text((!t.is_empty()).then_some(t))
        }
        "url" | "email" | "phone_number" => Extracted::Text(inner.as_str().map(str::to_string)),
        "select" | "status" => Extracted::Text(inner["name"].as_str().map(str::to_string)),
        "number" => Extracted::Num(inner.as_f64()),
        "unique_id" => Extracted::Num(inner["number"].as_f64()),
        "checkbox" => Extracted::Bool(inner.as_bool().unwrap_or(false)),
        "date" => {
            let s = inner["start"].as_str();
            Extracted::Date(s.and_then(parse_date))
        }
        "created_time" | "last_edited_time" => {
            let s = inner.as_str();
            Extracted::Date(s.and_then(parse_date))
        }
        "multi_select" => Extracted::List(names(inner, "name")),
        "people" | "relation" => Extracted::List(names(inner, "id")),
        "created_by" | "last_edited_by" => Extracted::List(
            inner["id"]
                .as_str()
                .map(|s| vec![s.to_string()])
                .unwrap_or_default(),
        ),
        "files" => Extracted::List(names(inner, "name")),
        "verification" => Extracted::Text(inner["state"].as_str().map(str::to_string)),
        "formula" | "rollup" => {
            let it = inner["type"].as_str().unwrap_or_default();
            match it {
                "string" => Extracted::Text(inner["string"].as_str().map(str::to_string)),
                "number" => Extracted::Num(inner["number"].as_f64()),
                "boolean" => Extracted::Bool(inner["boolean"].as_bool().unwrap_or(false)),
                "date" => {
                    let s = inner["date"]["start"].as_str();
                    Extracted::Date(s.and_then(parse_date))
                }
                _ => Extracted::List(Vec::new()),
            }
        }
        _ => Extracted::Text(None),
    }
}

fn names(arr: &Value, key: &str) -> Vec<String> {
    arr.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x[key].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn eval_value(val: &Value, cond: &Value, me: &str) -> bool {
    let ty = val["type"].as_str().unwrap_or_default();
    if ty == "formula" || ty == "rollup" {
        let inner = &val[ty];
        for k in ["any", "every", "none"] {
            if let Some(sub) = cond.get(k) {
                let items = inner["array"].as_array().cloned().unwrap_or_default();
                let (_, c) = match sub.as_object().and_then(|o| o.iter().next()) {
                    Some(x) => x,
                    None => return true,
                };
                let hits = items.iter().filter(|i| eval_value(i, c, me)).count();
                return match k {
                    "any" => hits > 0,
                    "every" => hits == items.len(),
                    _ => hits == 0,
                };
            }
        }
        if let Some((_, c)) = cond.as_object().and_then(|o| o.iter().next()) {
            return eval_extracted(&extract(val), c, me);
        }
        return true;
    }
    if ty == "verification" {
        let state = val["verification"]["state"].as_str().unwrap_or("none");
        let state = if state == "unverified" { "none" } else { state };
        if let Some(s) = cond.get("status").and_then(Value::as_str) {
            return state == s;
        }
        if let Some(s) = cond.get("does_not_equal").and_then(Value::as_str) {
            return state != s;
        }
        return true;
    }
    eval_extracted(&extract(val), cond, me)
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

fn eval_extracted(x: &Extracted, cond: &Value, me: &str) -> bool {
    let Some(obj) = cond.as_object() else {
        return true;
    };
    obj.iter().all(|(op, arg)| match x {
        Extracted::Text(t) => {
            let s = t.clone().unwrap_or_default();
            let empty = t.is_none() || s.is_empty();
            let many = strings(arg);
            match op.as_str() {
                "equals" => many.contains(&s),
                "does_not_equal" => many.iter().all(|a| *a != s),
                "contains" => arg.as_str().is_some_and(|a| lower(&s).contains(&lower(a))),
                "does_not_contain" => arg.as_str().is_some_and(|a| !lower(&s).contains(&lower(a))),
                "starts_with" => arg
                    .as_str()
                    .is_some_and(|a| lower(&s).starts_with(&lower(a))),
                "ends_with" => arg.as_str().is_some_and(|a| lower(&s).ends_with(&lower(a))),
                "is_empty" => empty,
                "is_not_empty" => !empty,
                _ => false,
            }
        }
        Extracted::Num(n) => {
            let a = arg.as_f64();
            match (op.as_str(), n, a) {
                ("is_empty", n, _) => n.is_none(),
                ("is_not_empty", n, _) => n.is_some(),
                ("equals", Some(n), Some(a)) => *n == a,
                ("does_not_equal", Some(n), Some(a)) => *n != a,
                ("does_not_equal", None, _) => true,
                ("greater_than", Some(n), Some(a)) => *n > a,
                ("less_than", Some(n), Some(a)) => *n < a,
                ("greater_than_or_equal_to", Some(n), Some(a)) => *n >= a,
                ("less_than_or_equal_to", Some(n), Some(a)) => *n <= a,
                _ => false,
            }
        }
        Extracted::Bool(b) => match op.as_str() {
            "equals" => arg.as_bool() == Some(*b),
            "does_not_equal" => arg.as_bool() != Some(*b),
            _ => false,
        },
        Extracted::Date(t) => date_op(*t, op, arg),
        Extracted::List(items) => {
            let wanted: Vec<String> = strings(arg)
                .into_iter()
                .map(|w| {
                    if w == "me" {
                        me.to_string()
                    } else {
                        parse_id(&w).unwrap_or(w)
                    }
                })
                .collect();
            match op.as_str() {
                "contains" => wanted.iter().any(|w| items.contains(w)),
                "does_not_contain" => wanted.iter().all(|w| !items.contains(w)),
                "is_empty" => items.is_empty(),
                "is_not_empty" => !items.is_empty(),
                _ => false,
            }
        }
    })
}

fn date_cond(t: Option<i64>, cond: &Value) -> bool {
    cond.as_object()
        .is_none_or(|o| o.iter().all(|(op, arg)| date_op(t, op, arg)))
}

fn start_of_today() -> i64 {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    now - now.rem_euclid(DAY)
}

/// Resolves a date operand: ISO date/date-time or a relative value. Returns (instant, day-only).
fn operand(arg: &Value) -> Option<(i64, bool)> {
    let s = arg.as_str()?;
    let today = start_of_today();
    let rel = match s {
        "today" => Some(today),
        "tomorrow" => Some(today + DAY),
        "yesterday" => Some(today - DAY),
        "one_week_ago" => Some(today - 7 * DAY),
        "one_week_from_now" => Some(today + 7 * DAY),
        "one_month_ago" => Some(today - 30 * DAY),
        "one_month_from_now" => Some(today + 30 * DAY),
        _ => None,
    };
    if let Some(r) = rel {
        return Some((r, true));
    }
    parse_date(s).map(|t| (t, s.len() <= 10))
}

fn date_op(t: Option<i64>, op: &str, arg: &Value) -> bool {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    match op {
        "is_empty" => return t.is_none(),
        "is_not_empty" => return t.is_some(),
        _ => {}
    }
    let Some(t) = t else { return false };
    let window = |from: i64, to: i64| t >= from && t < to;
    match op {
        "past_week" => return window(now - 7 * DAY, now),
        "past_month" => return window(now - 30 * DAY, now),
        "past_year" => return window(now - 365 * DAY, now),
        "next_week" => return window(now, now + 7 * DAY),
        "next_month" => return window(now, now + 30 * DAY),
        "next_year" => return window(now, now + 365 * DAY),
        "this_week" => {
            let today = start_of_today();
            let weekday = OffsetDateTime::now_utc()
                .weekday()
                .number_days_from_sunday() as i64;
            let start = today - weekday * DAY;
            return window(start, start + 7 * DAY);
        }
        _ => {}
    }
    let Some((a, day)) = operand(arg) else {
        return false;
    };
    let (t_cmp, a_cmp) = if day {
        (t - t.rem_euclid(DAY), a)
    } else {
        (t, a)
    };
    match op {
        "equals" => t_cmp == a_cmp,
        "before" => t_cmp < a_cmp,
        "after" => t_cmp > a_cmp,
        "on_or_before" => t_cmp <= a_cmp,
        "on_or_after" => t_cmp >= a_cmp,
        _ => false,
    }
}

/// Validates `sorts` against a schema.
pub fn validate_sorts(sorts: &Value, schema: &Value) -> ApiResult<()> {
    let Some(arr) = sorts.as_array() else {
        return Err(ApiError::validation(format!(
            "body failed validation: body.sorts should be an array, instead was `{}`.",
            short_json(sorts)
        )));
    };
    for (i, s) in arr.iter().enumerate() {
        if let Some(p) = s.get("property").and_then(Value::as_str) {
            if Store::schema_prop(schema, p).is_none() {
                return Err(ApiError::validation(format!(
                    "Could not find sort property with name or id: {p}"
                )));
            }
        } else if !matches!(
            s.get("timestamp").and_then(Value::as_str),
            Some("created_time") | Some("last_edited_time")
        ) {
            return Err(ApiError::validation(format!(
                "body failed validation: body.sorts[{i}] should have `property` or `timestamp`."
            )));
        }
        match s.get("direction").and_then(Value::as_str) {
            Some("ascending") | Some("descending") | None => {}
            Some(d) => {
                return Err(ApiError::validation(format!(
                    "body failed validation: body.sorts[{i}].direction should be `ascending` or `descending`, instead was `\"{d}\"`."
                )));
            }
        }
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Key {
    Num(f64),
    Str(String),
}

fn sort_key(val: &Value) -> Option<Key> {
    match extract(val) {
        Extracted::Text(t) => t
            .filter(|s| !s.is_empty())
            .map(|s| Key::Str(s.to_lowercase())),
        Extracted::Num(n) => n.map(Key::Num),
        Extracted::Bool(b) => Some(Key::Num(if b { 1.0 } else { 0.0 })),
        Extracted::Date(t) => t.map(|t| Key::Num(t as f64)),
        Extracted::List(l) => l.first().map(|s| Key::Str(s.to_lowercase())),
    }
}

/// Sorts pages in place; empty values go last; earlier sorts take precedence.
pub fn sort_pages(pages: &mut [Value], sorts: &Value, schema: &Value) {
    let Some(arr) = sorts.as_array() else { return };
    pages.sort_by(|a, b| {
        for s in arr {
            let desc = s.get("direction").and_then(Value::as_str) == Some("descending");
            let (ka, kb) = if let Some(ts) = s.get("timestamp").and_then(Value::as_str) {
                (
                    a[ts]
                        .as_str()
                        .and_then(parse_date)
                        .map(|t| Key::Num(t as f64)),
                    b[ts]
                        .as_str()
                        .and_then(parse_date)
                        .map(|t| Key::Num(t as f64)),
                )
            } else {
                let p = s["property"].as_str().unwrap_or_default();
                let Some((name, _)) = Store::schema_prop(schema, p) else {
                    continue;
                };
                (
                    sort_key(&a["properties"][name.as_str()]),
                    sort_key(&b["properties"][name.as_str()]),
                )
            };
            let ord = match (ka, kb) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(x), Some(y)) => {
                    let o = x.partial_cmp(&y).unwrap_or(Ordering::Equal);
                    if desc { o.reverse() } else { o }
                }
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    });
}
