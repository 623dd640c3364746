//! Small helpers: id parsing, timestamps, rich text construction and normalisation, URLs.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::error::{ApiError, ApiResult};

/// Parses an id given with or without dashes into the dashed lowercase form.
pub fn parse_id(raw: &str) -> Option<String> {
    let hex: String = raw.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    // Dashes, if present, must be at the canonical places.
    if raw.len() != 32 && raw.len() != 36 {
        return None;
    }
    let h = hex.to_ascii_lowercase();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

/// Parses a path id or answers Notion's 400 `validation_error`.
pub fn path_id(raw: &str, param: &str) -> ApiResult<String> {
    parse_id(raw).ok_or_else(|| ApiError::bad_uuid(param, raw))
}

/// The object `id` of `map`, or Notion's 404 naming it a `kind`.
pub fn get_or_404<'a>(
    map: &'a std::collections::HashMap<String, Value>,
    id: &str,
    kind: &str,
) -> ApiResult<&'a Value> {
    map.get(id).ok_or_else(|| ApiError::not_found(kind, id))
}

/// A request array of at most 100 items, or Notion's 400 on its `{path}.length`.
pub fn check_len_100(arr: &[Value], path: &str) -> ApiResult<()> {
    if arr.len() > 100 {
        return Err(ApiError::body_le(&format!("{path}.length"), 100, arr.len()));
    }
    Ok(())
}

/// The `id` of item `i` of a request array at `path` (users, relations), or Notion's 400.
pub fn item_id(item: &Value, path: &str, i: usize) -> ApiResult<String> {
    let raw = item["id"].as_str().unwrap_or_default();
    parse_id(raw).ok_or_else(|| {
        ApiError::validation(format!(
            "body failed validation: {path}[{i}].id should be a valid uuid, instead was `{}`.",
            serde_json::to_string(raw).unwrap_or_default()
        ))
    })
}

/// A request string of at most `max` characters, or Notion's 400 on its `{path}.length`.
pub fn check_chars(s: &str, path: &str, max: usize) -> ApiResult<()> {
    let n = s.chars().count();
    if n > max {
        return Err(ApiError::body_le(&format!("{path}.length"), max, n));
    }
    Ok(())
}

/// A fresh dashed lowercase id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The id without dashes.
pub fn compact(id: &str) -> String {
    id.replace('-', "")
}

/// Now, rounded down to the minute, in Notion's page/block format.
pub fn now_minute() -> String {
    minute_text(OffsetDateTime::now_utc())
}

fn minute_text(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:00.000Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// `secs` from now, rounded down to the minute, in the same format as [`now_minute`] (upload
/// and view-query expiry times).
pub fn minute_after(secs: u64) -> String {
    minute_text(OffsetDateTime::now_utc() + time::Duration::seconds(secs as i64))
}

/// Now with milliseconds and a numeric offset (database container format).
pub fn now_millis() -> String {
    let now = OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+00:00",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    )
}

/// Parses an ISO date or date-time into a UTC timestamp (seconds).
pub fn parse_date(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = time::Date::parse(s, &fmt) {
        return Some(d.midnight().assume_utc().unix_timestamp());
    }
    None
}

/// Default annotations.
pub fn default_annotations() -> Value {
    json!({
        "bold": false, "italic": false, "strikethrough": false,
        "underline": false, "code": false, "color": "default"
    })
}

/// A plain text rich-text item in response form.
pub fn rt_text(content: &str) -> Value {
    json!({
        "type": "text",
        "text": { "content": content, "link": null },
        "annotations": default_annotations(),
        "plain_text": content,
        "href": null
    })
}

/// A linked text rich-text item in response form.
pub fn rt_link(content: &str, url: &str) -> Value {
    json!({
        "type": "text",
        "text": { "content": content, "link": { "url": url } },
        "annotations": default_annotations(),
        "plain_text": content,
        "href": url
    })
}

/// A rich-text array with one text item.
pub fn rt(content: &str) -> Value {
    json!([rt_text(content)])
}

/// Concatenated `plain_text` of a rich-text array.
pub fn plain_text(arr: &Value) -> String {
    arr.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i.get("plain_text").and_then(Value::as_str))
                .collect::<String>()
        })
        .unwrap_or_default()
}

/// The URL slug Notion derives from a title.
pub fn slug(title: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in title.chars() {
        if c.is_alphanumeric() || c == '_' {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c);
        } else {
            dash = true;
        }
    }
    out
}

/// `https://www.notion.so/<slug>-<id>` (or just the id for an empty slug).
pub fn page_url(title: &str, id: &str) -> String {
    let s = slug(title);
    if s.is_empty() {
        format!("https://www.notion.so/{}", compact(id))
    } else {
        format!("https://www.notion.so/{s}-{}", compact(id))
    }
}

/// Percent-decodes a string (for property ids given in query strings or paths).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Resolver used while normalising mentions (user and page lookups).
pub trait MentionResolver {
    /// Full user object for an id, if known.
    fn user(&self, id: &str) -> Option<Value>;
    /// Title of a page or database, if known.
    fn title_of(&self, id: &str) -> Option<String>;
    /// The hosted `file` object (`{url, expiry_time}`) for a `file_upload` reference at body
    /// path `path`, or Notion's error when the upload cannot be attached (unknown, not yet
    /// uploaded, expired). The default accepts any id (resolvers without uploads).
    fn attach_upload(&self, id: &str, _path: &str) -> ApiResult<Value> {
        Ok(hosted_file(id, "file"))
    }
}

/// A Notion-hosted file object for an upload (`{url, expiry_time}`).
pub fn hosted_file(upload_id: &str, name: &str) -> Value {
    json!({
        "url": format!("https://prod-files-secure.s3.us-west-2.amazonaws.com/emulator/{upload_id}/{name}"),
        "expiry_time": "2099-01-01T00:00:00.000Z"
    })
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Normalises a request rich-text array into response form, enforcing Notion's size limits.
/// `path` is the body path of the array (e.g. `body.paragraph.rich_text`).
pub fn normalize_rich_text(
    v: &Value,
    path: &str,
    resolver: &dyn MentionResolver,
) -> ApiResult<Value> {
    let arr = match v {
        Value::Array(a) => a,
        Value::Null => return Ok(json!([])),
        _ => {
            return Err(ApiError::validation(format!(
                "body failed validation: {path} should be an array, instead was `{}`.",
                short_json(v)
            )));
        }
    };
    check_len_100(arr, path)?;
    let mut out = Vec::with_capacity(arr.len());
    for (i, item) in arr.iter().enumerate() {
        out.push(normalize_rt_item(item, &format!("{path}[{i}]"), resolver)?);
    }
    Ok(Value::Array(out))
}

/// Compact JSON for error messages.
pub fn short_json(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        let t: String = s.chars().take(57).collect();
        format!("{t}...")
    } else {
        s
    }
}

fn annotations_of(item: &Value) -> Value {
    let mut a = default_annotations();
    if let Some(Value::Object(given)) = item.get("annotations") {
        for (k, v) in given {
            a[k] = v.clone();
        }
    }
    a
}

fn normalize_rt_item(item: &Value, path: &str, r: &dyn MentionResolver) -> ApiResult<Value> {
    let Some(obj) = item.as_object() else {
        return Err(ApiError::validation(format!(
            "body failed validation: {path} should be an object, instead was `{}`.",
            short_json(item)
        )));
    };
    let ty = str_field(item, "type")
        .map(str::to_string)
        .or_else(|| {
            ["text", "mention", "equation"]
                .iter()
                .find(|k| obj.contains_key(**k))
                .map(|s| s.to_string())
        })
        .ok_or_else(|| ApiError::body_undefined(&format!("{path}.text")))?;
    let annotations = annotations_of(item);
    match ty.as_str() {
        "text" => {
            let text = item.get("text").cloned().unwrap_or(Value::Null);
            let content = text
                .get("content")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::body_undefined(&format!("{path}.text.content")))?;
            check_chars(content, &format!("{path}.text.content"), 2000)?;
            let link = match text.get("link") {
                Some(Value::Object(l)) => {
                    let url = l.get("url").and_then(Value::as_str).unwrap_or_default();
                    let un = url.chars().count();
                    if un > 2000 {
                        return Err(ApiError::body_le(
                            &format!("{path}.text.link.url.length"),
                            2000,
                            un,
                        ));
                    }
                    json!({ "url": url })
                }
                _ => Value::Null,
            };
            let href = link.get("url").cloned().unwrap_or(Value::Null);
            Ok(json!({
                "type": "text",
                "text": { "content": content, "link": link },
                "annotations": annotations,
                "plain_text": content,
                "href": href
            }))
        }
        "equation" => {
            let expr = item
                .get("equation")
                .and_then(|e| e.get("expression"))
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::body_undefined(&format!("{path}.equation.expression")))?;
            check_chars(expr, &format!("{path}.equation.expression"), 1000)?;
            Ok(json!({
                "type": "equation",
                "equation": { "expression": expr },
                "annotations": annotations,
                "plain_text": expr,
                "href": null
            }))
        }
        "mention" => {
            let m = item
                .get("mention")
                .and_then(Value::as_object)
                .ok_or_else(|| ApiError::body_undefined(&format!("{path}.mention")))?;
            let mty = m
                .get("type")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| {
                    m.keys()
                        .find(|k| k.as_str() != "type")
                        .map(|s| s.to_string())
                })
                .unwrap_or_default();
            let inner = m.get(&mty).cloned().unwrap_or(Value::Null);
            let (value, plain, href) = match mty.as_str() {
                "user" => {
                    let id = str_field(&inner, "id").unwrap_or_default().to_string();
                    let user = r
                        .user(&id)
                        .unwrap_or_else(|| json!({ "object": "user", "id": id }));
                    let name = user
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("Unknown")
                        .to_string();
                    (user, format!("@{name}"), Value::Null)
                }
                "page" | "database" => {
                    let raw = str_field(&inner, "id").unwrap_or_default();
                    let id = parse_id(raw).unwrap_or_else(|| raw.to_string());
                    let title = r.title_of(&id).unwrap_or_else(|| "Untitled".into());
                    let href = format!("https://www.notion.so/{}", compact(&id));
                    (json!({ "id": id }), title, json!(href))
                }
                "date" => {
                    let start = str_field(&inner, "start").unwrap_or_default().to_string();
                    let end = inner.get("end").cloned().unwrap_or(Value::Null);
                    let tz = inner.get("time_zone").cloned().unwrap_or(Value::Null);
                    (
                        json!({ "start": start, "end": end, "time_zone": tz }),
                        start.clone(),
                        Value::Null,
                    )
                }
                "template_mention" => {
                    let plain = if inner.get("template_mention_user").is_some() {
                        "@Me"
                    } else if inner.get("template_mention_date").and_then(Value::as_str)
                        == Some("now")
                    {
                        "@Now"
                    } else {
                        "@Today"
                    };
                    (inner.clone(), plain.to_string(), Value::Null)
                }
                "link_preview" => {
                    let url = str_field(&inner, "url").unwrap_or_default().to_string();
                    (inner.clone(), url.clone(), json!(url))
                }
                other => {
                    return Err(ApiError::validation(format!(
                        "body failed validation: {path}.mention.type should be one of `user`, `page`, `database`, `date`, `template_mention`, `link_preview`, instead was `{}`.",
                        serde_json::to_string(other).unwrap_or_default()
                    )));
                }
            };
            let mut mention = Map::new();
            mention.insert("type".into(), json!(mty));
            mention.insert(mty.clone(), value);
            Ok(json!({
                "type": "mention",
                "mention": mention,
                "annotations": annotations,
                "plain_text": plain,
                "href": href
            }))
        }
        other => Err(ApiError::validation(format!(
            "body failed validation: {path}.type should be `text`, `mention` or `equation`, instead was `{}`.",
            serde_json::to_string(other).unwrap_or_default()
        ))),
    }
}
