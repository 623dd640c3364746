//! The one integration-test binary of `notion-client`: fixtures round trip, every endpoint
//! against the in-process emulator, and resilience (rate limits, faults, the shared limiter).
mod builders;
mod coalesce;
mod endpoints;
mod fixtures;
mod oauth;
mod reauthorize;
mod resilience;
mod support;
mod tree;
mod uploads;
