//! The one integration-test binary of `gate-server`: the real server on port 0.
mod common;
mod helpers;
mod smoke;
mod support;
