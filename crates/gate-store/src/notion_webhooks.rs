//! Inbound Notion webhooks: the verification token of each connection's subscription (not
//! to be confused with `webhooks.rs`, the gateway's outbound approval notifications).
//!
//! Notion sends the token once, in an unsigned handshake; it then signs every delivery with
//! it (`X-Notion-Signature`). The token is a secret: it is stored encrypted by the vault, like
//! a connection's tokens, and shown only to an admin who asks for it.

use secrecy::SecretString;
use time::OffsetDateTime;

/// A connection's stored webhook verification tokens.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NotionWebhookTokens {
    /// The newest token received.
    pub current: SecretString,
    /// When it was received (also the version [`Store::confirm_notion_webhook_token`]
    /// checks).
    ///
    /// [`Store::confirm_notion_webhook_token`]: crate::Store::confirm_notion_webhook_token
    pub received_at: OffsetDateTime,
    /// When a signed delivery first verified with it (`None`: not yet).
    pub verified_at: Option<OffsetDateTime>,
    /// The verified token a later handshake replaced, still accepted until the new one
    /// verifies.
    pub previous: Option<SecretString>,
}
