//! An in-memory Notion API server (axum) that stands in for api.notion.com in tests.
