//! Integration tests for the Notion emulator, over HTTP with `reqwest` against `start()` on
//! port 0.

mod basics;
mod blocks;
mod common;
mod data;
mod faults;
mod fidelity;
mod markdown;
mod misc;
mod oauth;
mod pages;
mod ratelimit;
mod replay;
mod routes;
mod shape;
mod uploads;
mod views;
mod webhooks;
