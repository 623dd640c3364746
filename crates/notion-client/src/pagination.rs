//! Cursor pagination as `Stream`s, with a caller-set cap that also shrinks the last page so
//! that no request fetches rows nobody asked for.

use std::collections::VecDeque;
use std::future::Future;

use futures::Stream;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::models::ListResponse;

/// Notion's largest page size.
pub const MAX_PAGE_SIZE: u32 = 100;

/// One page request: a cursor and a size (1–100).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Paging {
    /// The cursor from the previous page's `next_cursor`; `None` for the first page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_cursor: Option<String>,
    /// Items per page; clamped to 1–100; `None` means Notion's default (100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
}

impl Paging {
    /// The first page, with Notion's default size.
    pub fn first() -> Self {
        Self::default()
    }

    /// A page starting at `cursor`.
    pub fn after(cursor: impl Into<String>) -> Self {
        Self {
            start_cursor: Some(cursor.into()),
            page_size: None,
        }
    }

    /// Sets the page size, clamped to 1–100.
    pub fn size(mut self, page_size: u32) -> Self {
        self.page_size = Some(page_size.clamp(1, MAX_PAGE_SIZE));
        self
    }

    /// As query parameters (for GET endpoints). An empty cursor is never sent.
    pub fn to_query(&self) -> Vec<(String, String)> {
        let mut q = Vec::new();
        if let Some(c) = self.start_cursor.as_deref().filter(|c| !c.is_empty()) {
            q.push(("start_cursor".to_owned(), c.to_owned()));
        }
        if let Some(n) = self.page_size {
            q.push((
                "page_size".to_owned(),
                n.clamp(1, MAX_PAGE_SIZE).to_string(),
            ));
        }
        q
    }
}

struct State<F, T> {
    fetch: F,
    cursor: Option<String>,
    buffer: VecDeque<T>,
    remaining: Option<usize>,
    done: bool,
}

/// Turns a page-fetching function into a stream of items. `cap` bounds the number of items
/// yielded (and therefore the requests made); `fetch` receives the cursor and page size.
pub fn paginate<T, F, Fut>(cap: Option<usize>, fetch: F) -> impl Stream<Item = Result<T>>
where
    F: FnMut(Paging) -> Fut,
    Fut: Future<Output = Result<ListResponse<T>>>,
{
    let state = State {
        fetch,
        cursor: None,
        buffer: VecDeque::new(),
        remaining: cap,
        done: cap == Some(0),
    };
    futures::stream::unfold(state, |mut st| async move {
        loop {
            if st.remaining == Some(0) {
                return None;
            }
            if let Some(item) = st.buffer.pop_front() {
                if let Some(r) = st.remaining.as_mut() {
                    *r -= 1;
                }
                return Some((Ok(item), st));
            }
            if st.done {
                return None;
            }
            let size = st
                .remaining
                .map_or(MAX_PAGE_SIZE, |r| r.min(MAX_PAGE_SIZE as usize) as u32);
            let paging = Paging {
                start_cursor: st.cursor.take(),
                page_size: Some(size),
            };
            match (st.fetch)(paging).await {
                Ok(page) => {
                    st.done = !page.has_more || page.next_cursor.is_none();
                    st.cursor = page.next_cursor;
                    st.buffer.extend(page.results);
                    if st.buffer.is_empty() && !st.done && st.cursor.is_none() {
                        st.done = true;
                    }
                }
                Err(e) => {
                    st.done = true;
                    return Some((Err(e), st));
                }
            }
        }
    })
}
