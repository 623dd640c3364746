//! Integration tests of `notion-markdown`: fixtures, rendering snapshots, round trips, write
//! plans, property flattening, the end-to-end write through the emulator, and no-panic
//! property tests.

mod common;
mod e2e;
mod fixtures;
mod nopanic;
mod plan;
mod props;
mod render;
mod roundtrip;
