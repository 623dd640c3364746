//! Fuzz target: arbitrary bytes decoded as each Notion model the gateway reads from Notion's
//! answers (pages, blocks, databases, data sources, users, comments, lists, search results,
//! property items, Markdown). Decoding never panics; what decodes serializes again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use notion_client::models::{
    Block, Comment, DataSource, Database, ListResponse, Page, PageMarkdown, PropertyItemResponse,
    SearchResult, User,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

fn round<T: DeserializeOwned + Serialize>(data: &[u8]) {
    if let Ok(v) = serde_json::from_slice::<T>(data) {
        let bytes = serde_json::to_vec(&v).expect("a decoded model serializes");
        let _ = serde_json::from_slice::<T>(&bytes);
    }
}

fuzz_target!(|data: &[u8]| {
    round::<Page>(data);
    round::<Block>(data);
    round::<Database>(data);
    round::<DataSource>(data);
    round::<User>(data);
    round::<Comment>(data);
    round::<ListResponse<Block>>(data);
    round::<ListResponse<SearchResult>>(data);
    round::<SearchResult>(data);
    round::<PropertyItemResponse>(data);
    round::<PageMarkdown>(data);
});
