//! The proxy's reads answered by the local mirror in local-only mode: `GET /v1/pages/{id}`,
//! `GET /v1/blocks/{id}/children` (Notion's pagination over the stored children) and
//! `POST /v1/search` (titles), in Notion's own shape, since the official SDKs use the proxy
//! unchanged. The body stays Notion's; the source is said by response headers
//! ([`SOURCE_HEADER`], [`MIRRORED_AT_HEADER`]).
//!
//! A request the mirror cannot answer faithfully (another `Notion-Version` than the mirror
//! was synced with, `filter_properties`, a block whose children were never mirrored, a
//! search sort other than `last_edited_time`) gets the local-only refusal with the reason
//! ([`Answer::Refused`]). Governance is the usual one (`Gate::mirror_read`: policy, root
//! pages with the mirror's parents, one audit record with `"source": "mirror"`); a
//! root-limited agent's search results are filtered to its roots.

use axum::http::Method;
use gate_core::{Caller, Gate, GateError, MirrorRead, NotionRequest, Surface};
use serde_json::{Map, Value, json};

/// Response header naming the source of an answer: `mirror`.
pub const SOURCE_HEADER: &str = "notion-gate-source";
/// Response header: when the mirror fetched the content answered (RFC 3339).
pub const MIRRORED_AT_HEADER: &str = "notion-gate-mirrored-at";

/// A read of the proxy the mirror may answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MirrorRoute {
    /// `GET /v1/pages/{id}`.
    Page(String),
    /// `GET /v1/blocks/{id}/children`.
    Children(String),
    /// `POST /v1/search`.
    Search,
}

impl MirrorRoute {
    /// The route of a proxy request, if the mirror may answer it.
    pub(crate) fn of(method: &Method, path: &str) -> Option<Self> {
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        match (method, segments.as_slice()) {
            (&Method::GET, ["", "v1", "pages", id]) => Some(Self::Page((*id).to_owned())),
            (&Method::GET, ["", "v1", "blocks", id, "children"]) => {
                Some(Self::Children((*id).to_owned()))
            }
            (&Method::POST, ["", "v1", "search"]) => Some(Self::Search),
            _ => None,
        }
    }
}

/// What the mirror answers.
#[derive(Debug)]
pub(crate) enum Answer {
    /// Notion's body, from the mirror, and when the mirror fetched it.
    Body {
        /// The JSON body.
        body: Value,
        /// RFC 3339.
        mirrored_at: Option<String>,
    },
    /// A request Notion would refuse: `validation_error` with this message.
    Invalid(String),
    /// Not answerable faithfully from the mirror: the local-only refusal, with the reason.
    Refused(String),
}

/// A request of the proxy, as the mirror reads it.
pub(crate) struct ProxyRead<'a> {
    /// The route.
    pub route: MirrorRoute,
    /// The query string's pairs.
    pub query: &'a [(String, String)],
    /// The JSON body (`{}` when empty).
    pub body: &'a Value,
    /// The request's `Notion-Version`.
    pub version: &'a str,
}

/// In local-only mode with a mirror of the caller's connection, answers `read` from the
/// mirror (`Ok(None)` otherwise: the usual path, which refuses in local-only mode).
pub(crate) async fn answer(
    gate: &Gate,
    caller: &Caller,
    representative: NotionRequest,
    read: ProxyRead<'_>,
) -> Result<Option<Answer>, GateError> {
    let Some(mirror) = gate
        .mirror_read(caller, Surface::Proxy, representative)
        .await?
    else {
        return Ok(None);
    };
    let answer = evaluate(&mirror, &read);
    let outcome = match &answer {
        Ok(Answer::Body { .. }) => Ok(()),
        Ok(Answer::Invalid(message)) => Err(GateError::Invalid {
            field: "request",
            message: message.clone(),
        }),
        Ok(Answer::Refused(_)) => Err(GateError::LocalOnly),
        Err(e) => Err(GateError::Invalid {
            field: "mirror",
            message: e.to_string(),
        }),
    };
    mirror.finish(outcome.as_ref().map(|_| ())).await;
    match answer {
        Ok(a) => Ok(Some(a)),
        Err(e) => {
            tracing::error!(error = %e, "the mirror cannot answer a proxy read");
            Err(GateError::NotConfigured {
                what: "the local mirror (it cannot be read; see the server log)",
            })
        }
    }
}

fn evaluate(mirror: &MirrorRead, read: &ProxyRead<'_>) -> gate_mirror::Result<Answer> {
    let store = mirror.store();
    let synced_with = store
        .meta(gate_mirror::sync::META_NOTION_VERSION)?
        .unwrap_or_else(|| notion_client::NotionVersion::default().as_str().to_owned());
    if synced_with != read.version {
        return Ok(Answer::Refused(format!(
            "the local mirror holds Notion-Version {synced_with} objects; this request asks for \
             {}",
            read.version
        )));
    }
    match &read.route {
        MirrorRoute::Page(id) => {
            if read.query.iter().any(|(k, _)| k == "filter_properties") {
                return Ok(Answer::Refused(
                    "the local mirror does not answer filter_properties".to_owned(),
                ));
            }
            Ok(match store.page(id)? {
                Some(m) => Answer::Body {
                    body: serde_json::to_value(&m.page)?,
                    mirrored_at: Some(m.mirrored_at),
                },
                None => Answer::Refused("this page is not in the local mirror".to_owned()),
            })
        }
        MirrorRoute::Children(id) => children(mirror, id, read.query),
        MirrorRoute::Search => search(mirror, read.body),
    }
}

/// `page_size`: default 100, at most 100, at least 1.
fn page_size(raw: Option<&Value>, place: &str) -> Result<usize, String> {
    match raw {
        None | Some(Value::Null) => Ok(100),
        Some(v) => match v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        {
            Some(n) if n >= 1 => Ok((n as usize).min(100)),
            Some(n) => Err(format!(
                "{place} failed validation: {place}.page_size should be ≥ `1`, instead was `{n}`."
            )),
            None => Err(format!(
                "{place} failed validation: {place}.page_size should be a number, instead was `{v}`."
            )),
        },
    }
}

fn children(
    mirror: &MirrorRead,
    id: &str,
    query: &[(String, String)],
) -> gate_mirror::Result<Answer> {
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let size = match page_size(get("page_size").map(|s| json!(s)).as_ref(), "query") {
        Ok(n) => n,
        Err(m) => return Ok(Answer::Invalid(m)),
    };
    let Some(stored) = mirror.store().block_children(id)? else {
        return Ok(Answer::Refused(
            "the children of this block are not in the local mirror".to_owned(),
        ));
    };
    let start = match get("start_cursor") {
        None => 0,
        Some(c) => {
            let wanted = gate_mirror::dashed_id(c);
            match stored
                .children
                .iter()
                .position(|b| wanted.as_deref() == Some(b.id.canonical().as_str()))
            {
                Some(i) => i,
                None => {
                    return Ok(Answer::Invalid(format!(
                        "The start_cursor provided is invalid: {c}"
                    )));
                }
            }
        }
    };
    let end = (start + size).min(stored.children.len());
    let next = stored.children.get(end).map(|b| b.id.canonical());
    let results = stored.children[start..end]
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Answer::Body {
        body: list(results, next, "block"),
        mirrored_at: Some(stored.mirrored_at),
    })
}

/// Notion's list envelope.
fn list(results: Vec<Value>, next: Option<String>, kind: &str) -> Value {
    let mut m = Map::new();
    m.insert("object".into(), json!("list"));
    m.insert("results".into(), Value::Array(results));
    m.insert("has_more".into(), json!(next.is_some()));
    m.insert("next_cursor".into(), json!(next));
    m.insert("type".into(), json!(kind));
    m.insert(kind.into(), json!({}));
    Value::Object(m)
}

/// The mirror's search cursor: the offset of the next object (`mirror:<n>`).
const CURSOR_PREFIX: &str = "mirror:";

fn search(mirror: &MirrorRead, body: &Value) -> gate_mirror::Result<Answer> {
    let invalid = |m: String| Ok(Answer::Invalid(m));
    let query = match body.get("query") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => {
            return invalid(format!(
                "body failed validation: body.query should be a string, instead was `{v}`."
            ));
        }
    };
    let store = mirror.store();
    let legacy = store
        .meta(gate_mirror::sync::META_NOTION_VERSION)?
        .is_some_and(|v| v.as_str() < notion_client::NotionVersion::V2025_09_03);
    let source_word = if legacy { "database" } else { "data_source" };
    let kind = match body.get("filter").filter(|f| !f.is_null()) {
        None => None,
        Some(f) => {
            if f.get("property").and_then(Value::as_str) != Some("object") {
                return Ok(Answer::Refused(
                    "the local mirror evaluates only a search filter on `object`".to_owned(),
                ));
            }
            match f.get("value").and_then(Value::as_str) {
                Some("page") => Some("page"),
                Some(v) if v == source_word => Some(source_word),
                other => {
                    return invalid(format!(
                        "body failed validation: body.filter.value should be `\"page\"` or \
                         `\"{source_word}\"`, instead was `{}`.",
                        other.map_or_else(|| "undefined".to_owned(), |v| format!("\"{v}\""))
                    ));
                }
            }
        }
    };
    let ascending = match body.get("sort").filter(|s| !s.is_null()) {
        None => false,
        Some(s) => {
            if s.get("timestamp")
                .and_then(Value::as_str)
                .is_some_and(|t| t != "last_edited_time")
            {
                return Ok(Answer::Refused(
                    "the local mirror sorts a search only by last_edited_time".to_owned(),
                ));
            }
            match s.get("direction").and_then(Value::as_str) {
                Some("ascending") => true,
                Some("descending") | None => false,
                Some(d) => {
                    return invalid(format!(
                        "body failed validation: body.sort.direction should be `ascending` or \
                         `descending`, instead was `\"{d}\"`."
                    ));
                }
            }
        }
    };
    let size = match page_size(body.get("page_size"), "body") {
        Ok(n) => n,
        Err(m) => return invalid(m),
    };
    let mut offset = match body.get("start_cursor") {
        None | Some(Value::Null) => 0,
        Some(c) => match c
            .as_str()
            .and_then(|c| c.strip_prefix(CURSOR_PREFIX))
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) => n,
            None => return invalid(format!("The start_cursor provided is invalid: {c}")),
        },
    };
    let batch = store.titles_sorted(&query, kind, ascending, offset, size + 1)?;
    let more = batch.len() > size;
    let mut results = Vec::new();
    for obj in batch.into_iter().take(size) {
        offset += 1;
        if mirror.visible(&obj.id) {
            results.push(obj.json);
        }
    }
    let next = more.then(|| format!("{CURSOR_PREFIX}{offset}"));
    let kind = if legacy {
        "page_or_database"
    } else {
        "page_or_data_source"
    };
    Ok(Answer::Body {
        body: list(results, next, kind),
        mirrored_at: store.status()?.last_sync_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_the_mirror_answers() {
        let id = "59833787-2cf9-4fdf-8782-e53db20768a5";
        assert_eq!(
            MirrorRoute::of(&Method::GET, &format!("/v1/pages/{id}")),
            Some(MirrorRoute::Page(id.to_owned()))
        );
        assert_eq!(
            MirrorRoute::of(&Method::GET, &format!("/v1/blocks/{id}/children")),
            Some(MirrorRoute::Children(id.to_owned()))
        );
        assert_eq!(
            MirrorRoute::of(&Method::POST, "/v1/search"),
            Some(MirrorRoute::Search)
        );
        assert_eq!(
            MirrorRoute::of(&Method::PATCH, &format!("/v1/pages/{id}")),
            None
        );
        assert_eq!(
            MirrorRoute::of(&Method::GET, &format!("/v1/blocks/{id}")),
            None
        );
        assert_eq!(
            MirrorRoute::of(&Method::GET, &format!("/v1/pages/{id}/properties/title")),
            None
        );
    }

    #[test]
    fn page_sizes_as_notion() {
        assert_eq!(page_size(None, "query"), Ok(100));
        assert_eq!(page_size(Some(&json!("7")), "query"), Ok(7));
        assert_eq!(page_size(Some(&json!(500)), "body"), Ok(100));
        assert!(page_size(Some(&json!(0)), "body").is_err());
        assert!(page_size(Some(&json!("x")), "query").is_err());
    }
}
