//! The write plan: block drafts split into append requests that respect Notion's limits, and
//! the executor that runs them in order through any async `append` function.
//!
//! # Plan shape
//!
//! A [`WritePlan`] is an ordered list of [`AppendStep`]s. Each step appends `children` at the
//! end of a parent: the root ([`Target::Root`]) or a block created by an earlier step
//! ([`Target::Created`] `{ step, index }`: the `index`-th top-level block of that step). The
//! append answer of Notion lists the created top-level blocks, so only top-level ids are
//! ever needed:
//!
//! - a block is sent **with** its children when they fit in the same request (at most 100,
//!   none of them has children of its own — Notion allows two levels per request — and the
//!   request stays within 1000 blocks and the byte budget);
//! - otherwise it is sent bare, and its children follow in later steps targeting it (tables
//!   keep their first 100 rows inline, since Notion refuses an empty table);
//! - a step holds at most 100 top-level blocks, 1000 blocks in all and about 500 KB of JSON;
//! - rich text longer than 2000 characters is split into several items (on character
//!   boundaries, keeping annotations and links); a paragraph with more than 100 rich-text
//!   items becomes several paragraphs.

use std::future::Future;

use notion_client::ids::BlockId;
use notion_client::models::{Block, BlockKind, NewBlock, RichText, RichTextKind};

use crate::error::{ExecuteError, PartialWrite};
use crate::parse::{BlockDraft, parse_markdown};

/// Notion's request limits, as used by the planner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Children per array (and top-level blocks per request): 100.
    pub max_children: usize,
    /// Block elements per request: 1000.
    pub max_blocks: usize,
    /// Bytes of JSON per request: 500 KB, with headroom for the envelope.
    pub max_bytes: usize,
    /// Characters per rich-text `text.content`: 2000.
    pub max_text: usize,
    /// Rich-text items per array: 100.
    pub max_rich_text_items: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_children: 100,
            max_blocks: 1000,
            max_bytes: 480_000,
            max_text: 2000,
            max_rich_text_items: 100,
        }
    }
}

/// The parent of an append step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The page or block the plan is written to.
    Root,
    /// The `index`-th top-level block created by step `step`.
    Created {
        /// The earlier step.
        step: usize,
        /// The index among that step's `children`.
        index: usize,
    },
}

/// One append request: `children` at the end of `parent`.
#[derive(Debug, Clone, PartialEq)]
pub struct AppendStep {
    /// Where to append.
    pub parent: Target,
    /// The blocks (with their inline children).
    pub children: Vec<NewBlock>,
}

impl AppendStep {
    /// Blocks in this request, every level.
    pub fn block_count(&self) -> usize {
        self.children.iter().map(nested_count).sum()
    }

    /// The deepest nesting in this request (1 = no children).
    pub fn depth(&self) -> usize {
        self.children.iter().map(nested_depth).max().unwrap_or(0)
    }

    /// The size of the request body `{"children": […]}` in bytes.
    pub fn body_bytes(&self) -> usize {
        json_len(&self.children) + 14
    }
}

/// An ordered list of append requests.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WritePlan {
    /// The steps, in execution order.
    pub steps: Vec<AppendStep>,
}

impl WritePlan {
    /// Blocks written by the whole plan.
    pub fn block_count(&self) -> usize {
        self.steps.iter().map(AppendStep::block_count).sum()
    }
}

/// What a completed plan wrote.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PlanReport {
    /// The top-level blocks created under the root, in order.
    pub top_level: Vec<BlockId>,
    /// The ids created by each step (top level of each request).
    pub created: Vec<Vec<BlockId>>,
    /// Blocks written (every level).
    pub blocks_written: usize,
}

/// Parses Markdown and plans its writes with the default limits.
pub fn plan_markdown(markdown: &str) -> WritePlan {
    plan_writes(parse_markdown(markdown), &Limits::default())
}

/// Splits rich text whose `text.content` exceeds 2000 characters into several items with the
/// same annotations and link (split on character boundaries).
pub fn split_rich_text(items: Vec<RichText>) -> Vec<RichText> {
    split_rich_text_at(items, 2000)
}

fn split_rich_text_at(items: Vec<RichText>, max: usize) -> Vec<RichText> {
    let max = max.max(1);
    if !items
        .iter()
        .any(|rt| matches!(&rt.kind, RichTextKind::Text(t) if t.content.len() > max))
    {
        return items;
    }
    let mut out = Vec::with_capacity(items.len() + 2);
    for rt in items {
        let RichTextKind::Text(t) = &rt.kind else {
            out.push(rt);
            continue;
        };
        if t.content.len() <= max || t.content.chars().count() <= max {
            out.push(rt);
            continue;
        }
        let content = t.content.clone();
        let mut start = 0;
        let mut chars = 0;
        for (pos, _) in content.char_indices() {
            if chars == max {
                out.push(with_content(&rt, &content[start..pos]));
                start = pos;
                chars = 0;
            }
            chars += 1;
        }
        out.push(with_content(&rt, &content[start..]));
    }
    out
}

fn with_content(rt: &RichText, s: &str) -> RichText {
    let mut piece = rt.clone();
    piece.plain_text = None;
    if let RichTextKind::Text(t) = &mut piece.kind {
        t.content = s.to_string();
    }
    piece
}

/// Applies the text limits to one block's content.
fn fit_text(kind: &mut BlockKind, limits: &Limits) {
    let fix = |rt: &mut Option<Vec<RichText>>| {
        if let Some(items) = rt.take() {
            *rt = Some(split_rich_text_at(items, limits.max_text));
        }
    };
    match kind {
        BlockKind::Paragraph(b)
        | BlockKind::BulletedListItem(b)
        | BlockKind::Quote(b)
        | BlockKind::Toggle(b)
        | BlockKind::Template(b) => fix(&mut b.rich_text),
        BlockKind::Heading1(b)
        | BlockKind::Heading2(b)
        | BlockKind::Heading3(b)
        | BlockKind::Heading4(b) => fix(&mut b.rich_text),
        BlockKind::NumberedListItem(b) => fix(&mut b.rich_text),
        BlockKind::ToDo(b) => fix(&mut b.rich_text),
        BlockKind::Callout(b) => fix(&mut b.rich_text),
        BlockKind::Code(b) => {
            fix(&mut b.rich_text);
            fix(&mut b.caption);
        }
        BlockKind::TableRow(r) => {
            for cell in &mut r.cells {
                let items = std::mem::take(cell);
                *cell = split_rich_text_at(items, limits.max_text);
            }
        }
        BlockKind::Image(f)
        | BlockKind::Video(f)
        | BlockKind::Pdf(f)
        | BlockKind::Audio(f)
        | BlockKind::File(f) => fix(&mut f.caption),
        BlockKind::Bookmark(u) | BlockKind::Embed(u) => fix(&mut u.caption),
        _ => {}
    }
}

/// Splits a paragraph with too many rich-text items into several paragraphs.
fn split_long_paragraphs(drafts: Vec<BlockDraft>, limits: &Limits) -> Vec<BlockDraft> {
    let mut out = Vec::with_capacity(drafts.len());
    for mut d in drafts {
        fit_text(&mut d.block.kind, limits);
        d.children = split_long_paragraphs(std::mem::take(&mut d.children), limits);
        let too_long = matches!(&d.block.kind, BlockKind::Paragraph(p)
            if p.rich_text.as_ref().is_some_and(|r| r.len() > limits.max_rich_text_items));
        if !too_long {
            out.push(d);
            continue;
        }
        let BlockKind::Paragraph(p) = &mut d.block.kind else {
            continue;
        };
        let items = p.rich_text.take().unwrap_or_default();
        let chunks: Vec<Vec<RichText>> = items
            .chunks(limits.max_rich_text_items.max(1))
            .map(<[RichText]>::to_vec)
            .collect();
        let last = chunks.len().saturating_sub(1);
        for (i, chunk) in chunks.into_iter().enumerate() {
            let mut piece = BlockDraft::new(NewBlock::paragraph(chunk));
            if i == last {
                piece.children = std::mem::take(&mut d.children);
            }
            out.push(piece);
        }
    }
    out
}

/// Plans the writes of block drafts under a root.
pub fn plan_writes(drafts: Vec<BlockDraft>, limits: &Limits) -> WritePlan {
    let drafts = split_long_paragraphs(drafts, limits);
    let mut plan = WritePlan::default();
    plan_level(Target::Root, drafts, limits, &mut plan.steps);
    plan
}

struct Pending {
    step: usize,
    index: usize,
    children: Vec<BlockDraft>,
}

fn plan_level(
    target: Target,
    drafts: Vec<BlockDraft>,
    limits: &Limits,
    steps: &mut Vec<AppendStep>,
) {
    let mut pending: Vec<Pending> = Vec::new();
    let mut chunk: Vec<NewBlock> = Vec::new();
    let mut chunk_blocks = 0usize;
    let mut chunk_bytes = 0usize;
    for draft in drafts {
        let (block, deferred) = shape(draft, limits);
        let blocks = nested_count(&block);
        let bytes = json_len(std::slice::from_ref(&block)) + 1;
        if !chunk.is_empty()
            && (chunk.len() >= limits.max_children
                || chunk_blocks + blocks > limits.max_blocks
                || chunk_bytes + bytes > limits.max_bytes)
        {
            steps.push(AppendStep {
                parent: target,
                children: std::mem::take(&mut chunk),
            });
            chunk_blocks = 0;
            chunk_bytes = 0;
        }
        if !deferred.is_empty() {
            pending.push(Pending {
                step: steps.len(),
                index: chunk.len(),
                children: deferred,
            });
        }
        chunk.push(block);
        chunk_blocks += blocks;
        chunk_bytes += bytes;
    }
    if !chunk.is_empty() {
        steps.push(AppendStep {
            parent: target,
            children: chunk,
        });
    }
    for p in pending {
        plan_level(
            Target::Created {
                step: p.step,
                index: p.index,
            },
            p.children,
            limits,
            steps,
        );
    }
}

/// Decides whether a draft's children go inline: returns the request block and the children
/// left for later steps.
fn shape(draft: BlockDraft, limits: &Limits) -> (NewBlock, Vec<BlockDraft>) {
    let BlockDraft {
        block,
        mut children,
    } = draft;
    if children.is_empty() {
        return (block, children);
    }
    let is_table = matches!(block.kind, BlockKind::Table(_));
    if is_table {
        // Rows never have children: keep as many as fit inline, append the rest later.
        let mut inline = Vec::new();
        let mut bytes = json_len(std::slice::from_ref(&block));
        let mut rest = Vec::new();
        for row in children {
            let b = json_len(std::slice::from_ref(&row.block)) + 1;
            if rest.is_empty()
                && inline.len() < limits.max_children
                && inline.len() + 1 < limits.max_blocks
                && bytes + b <= limits.max_bytes
            {
                bytes += b;
                inline.push(row.block);
            } else {
                rest.push(row);
            }
        }
        return (block.with_children(inline), rest);
    }
    let flat = children.iter().all(|c| c.children.is_empty());
    if flat && children.len() <= limits.max_children && children.len() < limits.max_blocks {
        let candidate = block
            .clone()
            .with_children(children.iter().map(|c| c.block.clone()).collect());
        if json_len(std::slice::from_ref(&candidate)) <= limits.max_bytes {
            return (candidate, Vec::new());
        }
    }
    children.shrink_to_fit();
    (block, children)
}

fn nested_count(b: &NewBlock) -> usize {
    1 + request_children(&b.kind).map_or(0, |c| c.iter().map(nested_count).sum())
}

fn request_children(kind: &BlockKind) -> Option<&Vec<NewBlock>> {
    match kind {
        BlockKind::Paragraph(b)
        | BlockKind::BulletedListItem(b)
        | BlockKind::Quote(b)
        | BlockKind::Toggle(b)
        | BlockKind::Template(b) => b.children.as_ref(),
        BlockKind::Heading1(b)
        | BlockKind::Heading2(b)
        | BlockKind::Heading3(b)
        | BlockKind::Heading4(b) => b.children.as_ref(),
        BlockKind::NumberedListItem(b) => b.children.as_ref(),
        BlockKind::ToDo(b) => b.children.as_ref(),
        BlockKind::Callout(b) => b.children.as_ref(),
        BlockKind::SyncedBlock(b) => b.children.as_ref(),
        BlockKind::Divider(b)
        | BlockKind::Breadcrumb(b)
        | BlockKind::Tab(b)
        | BlockKind::ColumnList(b) => b.children.as_ref(),
        BlockKind::Column(b) => b.children.as_ref(),
        BlockKind::Table(b) => b.children.as_ref(),
        _ => None,
    }
}

/// The nesting depth of a request block (1 = no children).
pub(crate) fn nested_depth(b: &NewBlock) -> usize {
    1 + request_children(&b.kind).map_or(0, |c| c.iter().map(nested_depth).max().unwrap_or(0))
}

struct CountingWriter(usize);

impl std::io::Write for CountingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn json_len(blocks: &[NewBlock]) -> usize {
    let mut w = CountingWriter(0);
    match serde_json::to_writer(&mut w, blocks) {
        Ok(()) => w.0,
        Err(_) => usize::MAX / 4,
    }
}

/// Runs a plan: each step's children are appended (at the end) under its parent with
/// `append(parent, children)`, which must answer with the created blocks. Only the first
/// `children.len()` blocks of an answer are used (Notion answers an append that is not at the
/// end with the following siblings too).
///
/// On failure, returns what was written before it ([`PartialWrite`]); nothing is retried
/// here (the client's retry loop decides what is safe to repeat).
pub async fn execute_plan<F, Fut, E>(
    plan: &WritePlan,
    root: BlockId,
    mut append: F,
) -> Result<PlanReport, PartialWrite<E>>
where
    F: FnMut(BlockId, Vec<NewBlock>) -> Fut,
    Fut: Future<Output = Result<Vec<Block>, E>>,
    E: std::error::Error + 'static,
{
    let mut report = PlanReport::default();
    let total = plan.steps.len();
    for (i, step) in plan.steps.iter().enumerate() {
        let fail = |report: PlanReport, error| PartialWrite {
            error,
            failed_step: i,
            completed_steps: i,
            total_steps: total,
            top_level: report.top_level,
            created: report.created,
            blocks_written: report.blocks_written,
        };
        let parent = match step.parent {
            Target::Root => root.clone(),
            Target::Created { step: s, index } => {
                match report.created.get(s).and_then(|ids| ids.get(index)) {
                    Some(id) => id.clone(),
                    None => {
                        let err = ExecuteError::BadTarget {
                            step: i,
                            target_step: s,
                            index,
                        };
                        return Err(fail(report, err));
                    }
                }
            }
        };
        let sent = step.children.len();
        let answer = match append(parent, step.children.clone()).await {
            Ok(a) => a,
            Err(e) => return Err(fail(report, ExecuteError::Append(e))),
        };
        if answer.len() < sent {
            let err = ExecuteError::ShortAnswer {
                step: i,
                sent,
                received: answer.len(),
            };
            return Err(fail(report, err));
        }
        let ids: Vec<BlockId> = answer.into_iter().take(sent).map(|b| b.id).collect();
        if step.parent == Target::Root {
            report.top_level.extend(ids.iter().cloned());
        }
        report.created.push(ids);
        report.blocks_written += step.block_count();
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_char_boundaries_keeping_annotations() {
        let text: String = "é".repeat(4500);
        let items = split_rich_text(vec![RichText::plain(text).bold()]);
        assert_eq!(items.len(), 3);
        for rt in &items {
            let RichTextKind::Text(t) = &rt.kind else {
                panic!()
            };
            assert!(t.content.chars().count() <= 2000);
            assert!(rt.annotations.as_ref().is_some_and(|a| a.bold));
        }
    }

    #[test]
    fn depth_of_nested_blocks() {
        let b = NewBlock::toggle(vec![]).with_children(vec![NewBlock::toggle(vec![])]);
        assert_eq!(nested_depth(&b), 2);
    }
}
