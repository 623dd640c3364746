//! Fuzz target: arbitrary text as a gate-policy TOML file. Loading never panics; a file that
//! loads is then used to decide a few operations.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    match gate_policy::Policy::from_toml_str(s) {
        Ok(policy) => {
            let _ = format!("{policy:?}");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
