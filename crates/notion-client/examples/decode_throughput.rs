//! Decode throughput of `Vec<Block>`: fixture blocks repeated to about 5 MB.
//!
//! ```text
//! cargo run --release -p notion-client --example decode_throughput [fixtures-dir] [runs]
//! ```

use std::time::{Duration, Instant};

use notion_client::models::Block;
use serde_json::Value;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .unwrap_or_else(|| "/work/shared/notion-fixtures/responses/notion_ruby_mapping".to_owned());
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(15);

    let mut samples = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("retrieve_block_") && n.ends_with(".json"))
        })
        .collect();
    names.sort();
    for path in names {
        let text = std::fs::read_to_string(&path).expect("read fixture");
        let Ok(value) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        // Only single blocks that decode.
        if value.get("object").and_then(Value::as_str) == Some("block")
            && serde_json::from_value::<Block>(value.clone()).is_ok()
        {
            samples.push(value);
        }
    }
    assert!(!samples.is_empty(), "no block fixtures in {dir}");

    let mut blocks = Vec::new();
    let mut size = 2;
    while size < 5_000_000 {
        let v = &samples[blocks.len() % samples.len()];
        size += serde_json::to_string(v).unwrap().len() + 1;
        blocks.push(v.clone());
    }
    let json = serde_json::to_vec(&blocks).unwrap();
    let mb = json.len() as f64 / 1e6;

    let decoded: Vec<Block> = serde_json::from_slice(&json).expect("decode");
    assert_eq!(decoded.len(), blocks.len());
    let again: Value = serde_json::to_value(&decoded).unwrap();
    if again != Value::Array(blocks.clone()) {
        eprintln!("warning: the decoded blocks do not re-serialize to the same JSON values");
    }

    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let decoded: Vec<Block> = serde_json::from_slice(&json).expect("decode");
            let elapsed = start.elapsed();
            std::hint::black_box(decoded);
            elapsed
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "{} blocks ({} fixture kinds), {:.2} MB: median {:.2} ms over {runs} runs, {:.1} MB/s, {:.0} blocks/s",
        blocks.len(),
        samples.len(),
        mb,
        median.as_secs_f64() * 1e3,
        mb / median.as_secs_f64(),
        blocks.len() as f64 / median.as_secs_f64()
    );
}
