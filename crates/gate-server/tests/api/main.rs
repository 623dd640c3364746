//! The one integration-test binary of `gate-server`: the real server on port 0.
mod authz;
mod browser;
mod console;
mod envelopes;
mod faults;
mod follow;
mod local_only;
mod scale;
mod shared_rate;
mod smoke;
#[path = "../../src/test_support/mod.rs"]
mod test_support;
