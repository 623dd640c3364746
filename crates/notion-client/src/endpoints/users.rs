//! Users: the token's bot (`me`), one user, and the workspace's members.

use reqwest::Method;

use crate::client::{Connection, RawRequest};
use crate::error::Result;
use crate::ids::UserId;
use crate::models::{ListResponse, User};
use crate::pagination::Paging;
use crate::retry::Idempotency;

/// User endpoints of one connection.
#[derive(Debug, Clone, Copy)]
pub struct Users<'a> {
    pub(crate) conn: &'a Connection,
}

impl Users<'_> {
    /// `GET /v1/users/me`: the bot behind the token, with its workspace.
    pub async fn me(&self) -> Result<User> {
        self.conn
            .send(RawRequest::new(
                Method::GET,
                "/v1/users/me",
                Idempotency::Safe,
            ))
            .await
    }

    /// `GET /v1/users/{id}`.
    pub async fn retrieve(&self, id: &UserId) -> Result<User> {
        let id = UserId::parse(id.as_str())?;
        self.conn
            .send(RawRequest::new(
                Method::GET,
                format!("/v1/users/{}", id.canonical()),
                Idempotency::Safe,
            ))
            .await
    }

    /// One page of `GET /v1/users`.
    pub async fn list(&self, paging: &Paging) -> Result<ListResponse<User>> {
        let mut req = RawRequest::new(Method::GET, "/v1/users", Idempotency::Safe);
        req.query = paging.to_query();
        self.conn.send(req).await
    }

    paged_stream! {
        /// Every member and bot, following cursors, up to `cap`.
        list_stream<'a>() -> User = list
    }
}
