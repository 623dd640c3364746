//! `http_client`: an rmcp client talking to the gateway's `/mcp` with a key.

use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt};

use super::Gateway;

pub type Client = RunningService<RoleClient, ()>;

/// An rmcp client talking to the gateway's `/mcp` with `key`.
pub async fn http_client(gw: &Gateway, key: &str) -> Result<Client, String> {
    let config =
        StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp", gw.base)).auth_header(key);
    ().serve(StreamableHttpClientTransport::from_config(config))
        .await
        .map_err(|e| e.to_string())
}
