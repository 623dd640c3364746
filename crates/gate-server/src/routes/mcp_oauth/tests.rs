//! MCP clients by OAuth, end to end on the real server: discovery from `/mcp`'s 401, the
//! metadata documents, dynamic registration, the authorization request with PKCE (S256 only),
//! the console's consent page (sign-in, CSRF, allow and deny), the token exchange (a wrong
//! verifier fails and spends the code), `tools/list` over `/mcp` with the token, and
//! revocation.

use gate_core::pkce_s256;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_SECURITY_POLICY, LOCATION, WWW_AUTHENTICATE};
use serde_json::{Value, json};

use crate::test_support::Browser;
use crate::test_support::{Gateway, spawn_gateway};
use crate::test_support::{http_client, no_redirects};

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const VERIFIER: &str = "a-verifier-of-at-least-forty-three-characters-0123456789";

fn location(resp: &reqwest::Response) -> String {
    resp.headers()[LOCATION].to_str().unwrap().to_owned()
}

fn query_of(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param(url: &str, name: &str) -> Option<String> {
    query_of(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The authorize URL of a registered client.
fn authorize_url(gw: &Gateway, client_id: &str, verifier: &str, method: &str) -> String {
    let mut u = url::Url::parse(&format!("{}/oauth/authorize", gw.base)).unwrap();
    u.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("code_challenge", &pkce_s256(verifier))
        .append_pair("code_challenge_method", method)
        .append_pair("state", "st-123")
        .append_pair("resource", &format!("{}/mcp", gw.base));
    u.into()
}

/// Follows `/oauth/authorize` to the consent page (as the signed-in `b`) and answers it;
/// the redirect back to the client.
async fn consent(
    gw: &Gateway,
    b: &Browser,
    client_id: &str,
    verifier: &str,
    decision: &str,
) -> String {
    let resp = no_redirects()
        .get(authorize_url(gw, client_id, verifier, "S256"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let to = location(&resp);
    assert!(to.starts_with(gate_core::MCP_CONSENT_PATH), "{to}");
    let (status, headers, html) = b.get(&to).await;
    assert_eq!(status, StatusCode::OK);
    let csp = headers[CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.contains("form-action 'self' http://127.0.0.1:9;"),
        "{csp}"
    );
    assert!(html.contains("Test client"), "the page names the client");
    let csrf = b.csrf(&to).await;
    let mut form: Vec<(String, String)> = query_of(&format!("{}{to}", gw.base));
    form.push(("maturity".into(), "intern".into()));
    form.push(("decision".into(), decision.into()));
    // Without the session's CSRF token: refused.
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, _, _) = b.post(gate_core::MCP_CONSENT_PATH, &pairs).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    form.push(("csrf".into(), csrf));
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, headers, _) = b.post(gate_core::MCP_CONSENT_PATH, &pairs).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    headers[LOCATION].to_str().unwrap().to_owned()
}

async fn token(
    gw: &Gateway,
    client_id: &str,
    code: &str,
    verifier: &str,
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let resp = gw
        .http
        .post(format!("{}/oauth/token", gw.base))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", client_id),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, resp.json().await.unwrap_or(Value::Null), headers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_client_connects_by_oauth_and_its_token_is_revocable() {
    let gw = spawn_gateway().await;
    let http = no_redirects();

    // Discovery: /mcp's 401 names the protected-resource metadata.
    let r = http
        .post(format!("{}/mcp", gw.base))
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let challenge = r.headers()[WWW_AUTHENTICATE].to_str().unwrap().to_owned();
    let metadata_url = format!("{}/.well-known/oauth-protected-resource/mcp", gw.base);
    assert_eq!(
        challenge,
        format!("Bearer resource_metadata=\"{metadata_url}\"")
    );
    let prm: Value = http
        .get(&metadata_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(prm["resource"], format!("{}/mcp", gw.base));
    assert_eq!(prm["authorization_servers"], json!([gw.base]));
    let root: Value = http
        .get(format!("{}/.well-known/oauth-protected-resource", gw.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(root, prm);
    let asm: Value = http
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            gw.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(asm["issuer"], gw.base);
    assert_eq!(asm["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(asm["token_endpoint"], format!("{}/oauth/token", gw.base));
    let register_url = asm["registration_endpoint"].as_str().unwrap().to_owned();

    // Registration (RFC 7591): loopback http is fine, another host over http is not.
    let bad = http
        .post(&register_url)
        .json(&json!({"client_name": "Evil", "redirect_uris": ["http://evil.example/cb"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["error"], "invalid_redirect_uri");
    let reg = http
        .post(&register_url)
        .json(
            &json!({"client_name": "Test client", "redirect_uris": [REDIRECT],
                      "token_endpoint_auth_method": "none", "grant_types": ["authorization_code"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(reg.status(), StatusCode::CREATED);
    let reg: Value = reg.json().await.unwrap();
    let client_id = reg["client_id"].as_str().unwrap().to_owned();
    assert_eq!(reg["redirect_uris"], json!([REDIRECT]));

    // Authorization requests: `plain` PKCE goes back to the client as an error; an unknown
    // client is shown, never redirected.
    let plain = http
        .get(authorize_url(&gw, &client_id, VERIFIER, "plain"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::SEE_OTHER);
    let to = location(&plain);
    assert!(to.starts_with(REDIRECT), "{to}");
    assert_eq!(param(&to, "error").as_deref(), Some("invalid_request"));
    assert_eq!(param(&to, "state").as_deref(), Some("st-123"));
    let unknown = http
        .get(authorize_url(&gw, "mcp_unknown", VERIFIER, "S256"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);

    // The consent page needs a console session: without one, the sign-in comes first and
    // leads back.
    let r = http
        .get(authorize_url(&gw, &client_id, VERIFIER, "S256"))
        .send()
        .await
        .unwrap();
    let consent_path = location(&r);
    let r = http
        .get(format!("{}{consent_path}", gw.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let login = location(&r);
    assert!(login.starts_with("/console/login?next="), "{login}");
    assert_eq!(
        param(&format!("{}{login}", gw.base), "next").as_deref(),
        Some(consent_path.as_str())
    );

    let mut b = Browser::new(&gw);
    b.sign_in(&gw.alice_key).await;

    // Denied: the client hears access_denied.
    let denied = consent(&gw, &b, &client_id, VERIFIER, "deny").await;
    assert_eq!(param(&denied, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&denied, "state").as_deref(), Some("st-123"));

    // Allowed: a code; a wrong verifier fails and spends it.
    let back = consent(&gw, &b, &client_id, VERIFIER, "allow").await;
    assert!(back.starts_with(REDIRECT), "{back}");
    assert_eq!(param(&back, "state").as_deref(), Some("st-123"));
    let code = param(&back, "code").expect("a code");
    let wrong = format!("{}x", &VERIFIER[..VERIFIER.len() - 1]);
    let (status, body, _) = token(&gw, &client_id, &code, &wrong).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    let (status, body, _) = token(&gw, &client_id, &code, VERIFIER).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "spent"
    );

    // Again, with the right verifier: the token is a new agent's key.
    let back = consent(&gw, &b, &client_id, VERIFIER, "allow").await;
    let code = param(&back, "code").expect("a code");
    let (status, body, headers) = token(&gw, &client_id, &code, VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().unwrap() > 0);
    let access = body["access_token"].as_str().unwrap().to_owned();
    assert!(access.starts_with("nga_"), "an agent key");
    let (_, again, _) = token(&gw, &client_id, &code, VERIFIER).await;
    assert_eq!(again["error"], "invalid_grant", "a code is exchanged once");

    // The agent is Alice's, at the maturity she chose.
    let alice = gw.gate.authenticate(&gw.alice_key).await.unwrap();
    let agents = gw.gate.list_agents(&alice).await.unwrap();
    let agent = agents
        .iter()
        .find(|a| a.name.starts_with("Test client (MCP "))
        .expect("the client's agent");
    assert_eq!(agent.maturity, "intern");

    // tools/list over /mcp with the token: an intern's tools.
    let client = http_client(&gw, &access)
        .await
        .expect("MCP with the OAuth token");
    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<_> = tools.iter().map(|t| t.name.to_string()).collect();
    assert!(names.iter().any(|n| n == "search"), "{names:?}");
    assert!(!names.iter().any(|n| n == "create_page"), "{names:?}");
    drop(client);

    // Revocation (RFC 7009): the key stops working at once.
    let r = http
        .post(format!("{}/oauth/revoke", gw.base))
        .form(&[
            ("token", access.as_str()),
            ("client_id", client_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = http
        .post(format!("{}/mcp", gw.base))
        .bearer_auth(&access)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(http_client(&gw, &access).await.is_err());
}
