//! Errors of plan execution.

use notion_client::ids::BlockId;

/// Why a step of a write plan failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExecuteError<E: std::error::Error + 'static> {
    /// The append function failed.
    #[error("append failed: {0}")]
    Append(#[source] E),
    /// The append answer held fewer blocks than were sent.
    #[error("step {step}: sent {sent} blocks but the answer holds only {received}")]
    ShortAnswer {
        /// The failed step.
        step: usize,
        /// Blocks sent.
        sent: usize,
        /// Blocks in the answer.
        received: usize,
    },
    /// A step targets a block of a step that has not run (a malformed plan).
    #[error("step {step} targets block {index} of step {target_step}, which does not exist")]
    BadTarget {
        /// The failed step.
        step: usize,
        /// The step it refers to.
        target_step: usize,
        /// The index it refers to.
        index: usize,
    },
}

/// A plan that stopped part-way: what was written before the failure, and why it stopped.
#[derive(Debug, thiserror::Error)]
#[error(
    "write plan stopped at step {failed_step} of {total_steps} after {completed_steps} steps: {error}"
)]
#[non_exhaustive]
pub struct PartialWrite<E: std::error::Error + 'static> {
    /// Why it stopped.
    #[source]
    pub error: ExecuteError<E>,
    /// The index of the step that failed.
    pub failed_step: usize,
    /// Steps completed (all of `0..completed_steps`).
    pub completed_steps: usize,
    /// The number of steps in the plan.
    pub total_steps: usize,
    /// The top-level blocks created under the root before the failure, in order.
    pub top_level: Vec<BlockId>,
    /// The ids created by each completed step.
    pub created: Vec<Vec<BlockId>>,
    /// Blocks written before the failure (every level).
    pub blocks_written: usize,
}
