//! From command-line arguments to a Notion connection: the token (flag or environment), the
//! base URL and version, the page id argument, and plain-language explanations of failures.

use anyhow::{Context, Result, anyhow, bail};
use notion_client::error::TransportKind;
use notion_client::ids::PageId;
use std::sync::Arc;

use notion_client::limiter::Unlimited;
use notion_client::{
    ClientConfig, Connection, Error, LimiterConfig, Notion, NotionVersion, SecretString,
};

use crate::cli::NotionArgs;
use crate::config::vars;

/// The environment variable that can hold the token, after `--token` (which clap also fills
/// from [`vars::NOTION_TOKEN`]).
pub const TOKEN_ENV_FALLBACK: &str = vars::NOTION_API_KEY;

/// The token from `--token`, `NOTION_GATE_NOTION_TOKEN` or `NOTION_API_KEY`, in that order.
pub fn token(args: &NotionArgs) -> Result<SecretString> {
    let raw = args
        .token
        .clone()
        .filter(|t| !t.trim().is_empty())
        .or_else(|| {
            std::env::var(TOKEN_ENV_FALLBACK)
                .ok()
                .filter(|t| !t.trim().is_empty())
        });
    match raw {
        Some(t) => Ok(SecretString::from(t.trim().to_owned())),
        None => bail!(
            "no Notion token: pass --token TOKEN or set {} or {}",
            vars::NOTION_TOKEN,
            vars::NOTION_API_KEY
        ),
    }
}

/// A connection built from the arguments (default limiter: 3 requests/s, burst 10).
pub fn connection(args: &NotionArgs) -> Result<Connection> {
    connection_limited(args, Some(LimiterConfig::default()))
}

/// A connection built from the arguments with this client-side limiter; `None` sends
/// without one (a 429's `Retry-After` is still honoured).
pub fn connection_limited(args: &NotionArgs, limiter: Option<LimiterConfig>) -> Result<Connection> {
    let token = token(args)?;
    let url = url::Url::parse(&args.notion_url).map_err(|e| {
        anyhow!(
            "invalid --notion-url {:?}: {e} (expected something like https://api.notion.com)",
            args.notion_url
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!(
            "invalid --notion-url {:?}: the scheme must be http or https",
            args.notion_url
        );
    }
    let mut config = ClientConfig::default().base_url(args.notion_url.as_str());
    if let Some(v) = &args.notion_version {
        let version =
            NotionVersion::parse(v).map_err(|e| anyhow!("invalid --notion-version: {e}"))?;
        config = config.notion_version(version);
    }
    let notion = Notion::new(config).context("build the HTTP client")?;
    Ok(match limiter {
        Some(l) => notion.connection_with_limiter(token, notion.new_limiter(Some(l))),
        None => notion.connection_with_limiter(token, Arc::new(Unlimited::default())),
    })
}

/// Parses the `PAGE_ID` argument: an id (32 hex digits, dashes optional) or a Notion page URL
/// ending in one (`https://www.notion.so/Title-0123…?v=…`).
pub fn page_id(arg: &str) -> Result<PageId> {
    let trimmed = arg.trim();
    if let Ok(id) = PageId::parse(trimmed) {
        return Ok(id);
    }
    let path = trimmed.split(['?', '#']).next().unwrap_or_default();
    let last = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let tail = last
        .char_indices()
        .rev()
        .nth(31)
        .map_or("", |(i, _)| &last[i..]);
    PageId::parse(tail).map_err(|_| {
        anyhow!(
            "invalid PAGE_ID {:?}: expected a Notion page id (32 hex digits, dashes optional) or a page URL ending in one",
            arg.chars().take(80).collect::<String>()
        )
    })
}

/// Turns a client error into a message for a person; `what` names the object (e.g.
/// `page 0123…`).
pub fn explain(err: Error, what: &str, base_url: &str) -> anyhow::Error {
    let message = err
        .api()
        .map(|a| a.message.clone())
        .unwrap_or_else(|| err.to_string());
    match (&err, err.status()) {
        (_, Some(401)) => anyhow!(
            "the token was refused by Notion (401 unauthorized): check --token, {} or {}",
            vars::NOTION_TOKEN,
            vars::NOTION_API_KEY
        ),
        (_, Some(404)) => anyhow!(
            "{what} was not found or not shared with the integration (404): in Notion, add the integration to the page's connections"
        ),
        (_, Some(403)) => anyhow!(
            "the integration is not allowed to do this (403 restricted_resource): {message}"
        ),
        (_, Some(429)) => {
            anyhow!("Notion kept answering 429 (rate limited) after every retry: try again later")
        }
        (_, Some(400)) => anyhow!("Notion refused the request (400): {message}"),
        (
            Error::Transport {
                kind: TransportKind::Connect,
                ..
            },
            _,
        ) => anyhow!("could not connect to Notion at {base_url}: {err}"),
        (Error::Transport { .. }, _) => {
            anyhow!("the connection to Notion at {base_url} failed: {err}")
        }
        (_, Some(status)) => anyhow!("Notion answered {status}: {message}"),
        _ => anyhow!(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_ids_and_urls() {
        let want = "59833787-2cf9-4fdf-8782-e53db20768a5";
        for input in [
            "598337872cf94fdf8782e53db20768a5",
            "59833787-2cf9-4fdf-8782-e53db20768a5",
            "https://www.notion.so/acme/Launch-plan-598337872cf94fdf8782e53db20768a5",
            "https://www.notion.so/598337872cf94fdf8782e53db20768a5?v=1&pvs=4",
            "https://notion.so/Title-598337872cf94fdf8782e53db20768a5/#heading",
        ] {
            assert_eq!(page_id(input).unwrap().canonical(), want, "{input}");
        }
        for bad in [
            "",
            "abc",
            "https://www.notion.so/Title",
            "598337872cf94fdf8782e53db20768aZ",
        ] {
            let e = page_id(bad).unwrap_err().to_string();
            assert!(e.contains("PAGE_ID"), "{e}");
        }
    }
}
