//! A typed async client for the Notion REST API.
//!
//! One pooled HTTP client, a per-connection limiter shared by every clone of a
//! [`Connection`](client::Connection), a retry policy that never repeats an effect, cursor
//! pagination as streams, typed errors that keep Notion's status, code and request id, and
//! models that lose nothing on a round trip.

pub mod ids;
pub mod models;
