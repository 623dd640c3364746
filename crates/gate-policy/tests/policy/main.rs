//! Integration tests for gate-policy: decision tables, classification, TOML loading, properties.

mod classification;
mod decisions;
mod properties;
mod toml_loading;
