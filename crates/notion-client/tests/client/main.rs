//! The one integration-test binary of `notion-client`.
mod fixtures;
