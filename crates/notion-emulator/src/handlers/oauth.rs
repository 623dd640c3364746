//! OAuth for public connections: authorize (auto-consent or configured denial), token
//! (authorization_code and refresh_token grants with rotation), introspect and revoke.

use axum::extract::{FromRequest, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};

use super::{lock, q_get, query_pairs, respond};
use crate::config::OAuthClient;
use crate::error::{ApiError, ApiResult};
use crate::pipeline::JsonBody;
use crate::state::{CodeGrant, EmulatorHandle, TokenGrant};
use crate::util::new_id;

const SCOPE: &str =
    "read_content update_content insert_content read_comments insert_comments read_user_with_email";

fn invalid_request(msg: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", msg)
}

fn invalid_grant(msg: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_grant", msg)
}

fn random_token(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

/// `GET /v1/oauth/authorize`: validates the request and redirects at once (no consent screen).
pub async fn authorize(State(h): State<EmulatorHandle>, RawQuery(q): RawQuery) -> Response {
    match authorize_inner(&h, q.as_deref()) {
        Ok(location) => {
            let mut r = StatusCode::FOUND.into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
        Err(e) => e.into_response(),
    }
}

fn authorize_inner(h: &EmulatorHandle, q: Option<&str>) -> ApiResult<String> {
    let pairs = query_pairs(q);
    let client_id =
        q_get(&pairs, "client_id").ok_or_else(|| invalid_request("Missing client_id."))?;
    let (client, deny) = {
        let rt = lock(&h.0.rt);
        let c = rt
            .oauth_clients
            .iter()
            .find(|c| c.client_id == client_id)
            .cloned();
        (c, rt.oauth_deny)
    };
    let client = client.ok_or_else(|| invalid_request("Invalid client_id."))?;
    if q_get(&pairs, "response_type") != Some("code") {
        return Err(invalid_request("response_type must be `code`."));
    }
    if q_get(&pairs, "owner") != Some("user") {
        return Err(invalid_request("owner must be `user`."));
    }
    let given = q_get(&pairs, "redirect_uri").map(str::to_string);
    let redirect = match &given {
        Some(r) if client.redirect_uris.iter().any(|u| u == r) => r.clone(),
        Some(_) => return Err(invalid_request("Invalid redirect_uri.")),
        None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
        None => return Err(invalid_request("Missing redirect_uri.")),
    };
    let state = q_get(&pairs, "state");
    let mut url =
        url::Url::parse(&redirect).map_err(|_| invalid_request("Invalid redirect_uri."))?;
    {
        let mut qp = url.query_pairs_mut();
        if deny {
            qp.append_pair("error", "access_denied");
        } else {
            let code = random_token("code_");
            lock(&h.0.oauth).codes.insert(
                code.clone(),
                CodeGrant {
                    client_id: client.client_id.clone(),
                    redirect_uri: given,
                    used: false,
                },
            );
            qp.append_pair("code", &code);
        }
        if let Some(s) = state {
            qp.append_pair("state", s);
        }
    }
    Ok(url.to_string())
}

fn basic_client(h: &EmulatorHandle, headers: &HeaderMap) -> ApiResult<OAuthClient> {
    let bad = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed.",
        )
    };
    let v = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(bad)?;
    let (scheme, b64) = v.split_once(' ').ok_or_else(bad)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad());
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (id, secret) = text.split_once(':').ok_or_else(bad)?;
    lock(&h.0.rt)
        .oauth_clients
        .iter()
        .find(|c| c.client_id == id && c.client_secret == secret)
        .cloned()
        .ok_or_else(bad)
}

fn issue(h: &EmulatorHandle, client: &OAuthClient, bot_id: Option<String>) -> Value {
    let mut s = lock(&h.0.store);
    let person = s
        .users
        .iter()
        .find(|u| u["type"] == "person")
        .cloned()
        .unwrap_or_else(|| json!({ "object": "user", "id": new_id() }));
    let workspace_name = s.workspace_name.clone();
    let bot_id = bot_id.unwrap_or_else(|| {
        let id = new_id();
        s.users.push(json!({
            "object": "user",
            "id": id,
            "name": format!("{} (OAuth)", client.client_id),
            "avatar_url": null,
            "type": "bot",
            "bot": {
                "owner": { "type": "user", "user": { "object": "user", "id": person["id"] } },
                "workspace_name": workspace_name,
                "workspace_limits": { "max_file_upload_size_in_bytes": 5_368_709_120u64 }
            }
        }));
        id
    });
    let access = random_token("ntn_");
    let refresh = random_token("nrt_");
    let grant = TokenGrant {
        client_id: client.client_id.clone(),
        bot_id: bot_id.clone(),
        iat: time::OffsetDateTime::now_utc().unix_timestamp(),
    };
    let mut o = lock(&h.0.oauth);
    o.access.insert(access.clone(), grant.clone());
    o.refresh.insert(refresh.clone(), grant);
    json!({
        "access_token": access,
        "token_type": "bearer",
        "refresh_token": refresh,
        "bot_id": bot_id,
        "workspace_id": s.workspace_id,
        "workspace_name": s.workspace_name,
        "workspace_icon": null,
        "owner": { "type": "user", "user": person },
        "duplicated_template_id": null,
    })
}

/// `POST /v1/oauth/token`.
pub async fn token(
    State(h): State<EmulatorHandle>,
    headers: HeaderMap,
    JsonBody(b): JsonBody,
) -> Response {
    respond((|| {
        let client = basic_client(&h, &headers)?;
        match b.get("grant_type").and_then(Value::as_str) {
            Some("authorization_code") => {
                let code = b
                    .get("code")
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid_request("body.code should be defined."))?;
                let redirect = b.get("redirect_uri").and_then(Value::as_str);
                let mut o = lock(&h.0.oauth);
                let grant = o
                    .codes
                    .get_mut(code)
                    .filter(|g| g.client_id == client.client_id)
                    .ok_or_else(|| invalid_grant("Invalid code: this code is not valid."))?;
                if grant.used {
                    return Err(invalid_grant("Invalid code: this code has been revoked."));
                }
                match (&grant.redirect_uri, redirect) {
                    (Some(expected), Some(got)) if expected == got => {}
                    (Some(_), Some(_)) => {
                        return Err(invalid_grant(
                            "Invalid redirect_uri: it does not match the authorization request.",
                        ));
                    }
                    (Some(_), None) => {
                        return Err(invalid_request("body.redirect_uri should be defined."));
                    }
                    (None, Some(_)) if client.redirect_uris.len() == 1 => {
                        return Err(invalid_request(
                            "body.redirect_uri should not be present: the authorization request had none.",
                        ));
                    }
                    _ => {}
                }
                grant.used = true;
                drop(o);
                Ok(issue(&h, &client, None))
            }
            Some("refresh_token") => {
                let rt = b
                    .get("refresh_token")
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid_request("body.refresh_token should be defined."))?;
                let revoked = lock(&h.0.rt).revoked.contains(rt);
                let mut o = lock(&h.0.oauth);
                let grant = o
                    .refresh
                    .get(rt)
                    .filter(|g| g.client_id == client.client_id && !revoked)
                    .cloned()
                    .ok_or_else(|| invalid_grant("Invalid refresh token."))?;
                o.refresh.remove(rt);
                drop(o);
                Ok(issue(&h, &client, Some(grant.bot_id)))
            }
            Some(other) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("Unsupported grant_type: {other}."),
            )),
            None => Err(invalid_request("body.grant_type should be defined.")),
        }
    })())
}

/// The `token` of an introspect or revoke request, once the client's Basic credentials are
/// checked: a wrong client or a missing `token` is refused before the handler runs.
pub struct ClientToken(String);

impl FromRequest<EmulatorHandle> for ClientToken {
    type Rejection = ApiError;

    async fn from_request(req: Request, h: &EmulatorHandle) -> ApiResult<Self> {
        basic_client(h, req.headers())?;
        let JsonBody(b) = JsonBody::from_request(req, h).await?;
        b.get("token")
            .and_then(Value::as_str)
            .map(|t| ClientToken(t.to_owned()))
            .ok_or_else(|| invalid_request("body.token should be defined."))
    }
}

/// `POST /v1/oauth/introspect`.
pub async fn introspect(State(h): State<EmulatorHandle>, ClientToken(t): ClientToken) -> Response {
    let revoked = lock(&h.0.rt).revoked.contains(&t);
    let o = lock(&h.0.oauth);
    respond(Ok(match o.access.get(&t).or_else(|| o.refresh.get(&t)) {
        Some(g) if !revoked => json!({ "active": true, "scope": SCOPE, "iat": g.iat }),
        _ => json!({ "active": false }),
    }))
}

/// `POST /v1/oauth/revoke`.
pub async fn revoke(State(h): State<EmulatorHandle>, ClientToken(t): ClientToken) -> Response {
    h.revoke_token(&t);
    respond(Ok(json!({})))
}
