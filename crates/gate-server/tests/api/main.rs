//! The one integration-test binary of `gate-server`: the real server on port 0.
mod admin;
mod approvals;
mod audit;
mod authz;
mod common;
mod faults;
mod helpers;
mod mcp;
mod notion;
mod oauth;
mod page_read;
mod proxy;
mod scale;
mod shared_rate;
mod smoke;
mod support;
mod tools;
