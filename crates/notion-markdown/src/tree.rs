//! Block trees: the [`ChildSource`] trait through which the renderer finds children, and the
//! owned [`BlockNode`] tree.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use notion_client::ids::BlockId;
use notion_client::models::Block;
use notion_client::tree::PageTree;
use serde_json::{Value, json};

/// Yields the children of a block, in document order.
///
/// The renderer asks only for blocks whose `has_children` is `true` (as Notion sets it), and,
/// for a synced-block copy without children of its own, for the original's children.
/// `None` (or an empty slice) means the block has no children, or they were not fetched; the
/// renderer then renders the block without them. A tree fetcher implements this for its
/// result (it is implemented here for `HashMap<BlockId, Vec<Block>>`, `BTreeMap` and
/// [`notion_client::tree::PageTree`]).
pub trait ChildSource {
    /// The children of the block `id`.
    fn children(&self, id: &BlockId) -> Option<&[Block]>;
}

impl<S: BuildHasher> ChildSource for HashMap<BlockId, Vec<Block>, S> {
    fn children(&self, id: &BlockId) -> Option<&[Block]> {
        self.get(id).map(Vec::as_slice)
    }
}

impl ChildSource for BTreeMap<BlockId, Vec<Block>> {
    fn children(&self, id: &BlockId) -> Option<&[Block]> {
        self.get(id).map(Vec::as_slice)
    }
}

impl ChildSource for PageTree {
    fn children(&self, id: &BlockId) -> Option<&[Block]> {
        self.children.get(id).map(Vec::as_slice)
    }
}

/// A source without children: renders only the given blocks.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoChildren;

impl ChildSource for NoChildren {
    fn children(&self, _id: &BlockId) -> Option<&[Block]> {
        None
    }
}

/// An owned block tree node: a block and its children.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockNode {
    /// The block.
    pub block: Block,
    /// Its children, in document order (empty when none or not fetched).
    pub children: Vec<BlockNode>,
}

impl BlockNode {
    /// A node without children.
    pub fn leaf(block: Block) -> Self {
        Self {
            block,
            children: Vec::new(),
        }
    }

    /// Builds the tree below `blocks` from a child source (depth-first, no cycles: a block id
    /// is expanded at most once along a path, up to `max_depth` levels).
    pub fn build(blocks: &[Block], source: &dyn ChildSource, max_depth: usize) -> Vec<BlockNode> {
        blocks
            .iter()
            .map(|b| BlockNode {
                block: b.clone(),
                children: match (max_depth > 1, source.children(&b.id)) {
                    (true, Some(kids)) => Self::build(kids, source, max_depth - 1),
                    _ => Vec::new(),
                },
            })
            .collect()
    }
}

/// Deserializes a block from JSON; a block whose known type has malformed content (or that
/// lacks an id) becomes a block of the unknown type `invalid:<type>` with the same id, so that
/// rendering shows a placeholder instead of failing.
pub fn block_from_json(value: &Value) -> Block {
    if let Ok(block) = serde_json::from_value::<Block>(value.clone()) {
        return block;
    }
    let ty = value.get("type").and_then(Value::as_str).unwrap_or("block");
    let id = value
        .get("id")
        .and_then(Value::as_str)
        .and_then(|s| BlockId::parse(s).ok())
        .map(|id| id.to_string())
        .unwrap_or_else(|| "00000000-0000-0000-0000-000000000000".into());
    let placeholder = json!({"object": "block", "id": id, "type": format!("invalid:{ty}")});
    serde_json::from_value(placeholder).unwrap_or_else(|_| unreachable_block())
}

fn unreachable_block() -> Block {
    // A fixed, valid JSON block: deserialization cannot fail.
    serde_json::from_value(json!({
        "object": "block", "id": "00000000-0000-0000-0000-000000000000", "type": "invalid"
    }))
    .unwrap_or_else(|e| panic!("fixed placeholder block does not deserialize: {e}"))
}
