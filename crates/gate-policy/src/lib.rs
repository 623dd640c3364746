//! Governance for notion-gate: maturity levels, action classes, classification of every
//! Notion operation and gateway tool action, policy as data, and decisions. Pure: no IO, no
//! async, no clock.
//!
//! # The path of one call
//!
//! ```
//! use gate_policy::{classify, decide, Caller, Decision, Maturity, Policy};
//! use serde_json::json;
//!
//! let policy = Policy::default();
//! let body = json!({ "in_trash": true });
//! let op = classify("PATCH", "/v1/pages/1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d", Some(&body));
//! assert_eq!(op.class.as_str(), "delete");
//! let agent = Caller::agent("agt_1", "notes-bot", "Supervised".parse::<Maturity>().unwrap());
//! match decide(&policy, &agent, &op) {
//!     Decision::Deny { reason, needed } => {
//!         assert_eq!(reason.code(), "maturity_too_low");
//!         assert_eq!(needed, Some(Maturity::Autonomous));
//!     }
//!     other => panic!("{other:?}"),
//! }
//! ```
//!
//! # Semantics
//!
//! - **Classes** ([`ActionClass`]): `read`, `create`, `update`, `delete`, `schema`. Every
//!   request is classified by [`classify`] (Notion REST) or [`classify_tool`] (gateway tool
//!   actions); anything unknown is `delete` (fail closed). OAuth and the Notion agents API are
//!   [`OperationScope::NotProxied`] and denied for every caller, users included.
//! - **Rules** ([`Rules`]): per class a minimum maturity and a set of maturities that need
//!   approval. A listed maturity gets `NeedsApproval`; otherwise at or above the minimum
//!   `Allow`; otherwise `Deny`. Rules that would give a less mature agent more than a more
//!   mature one are rejected.
//! - **Built-in defaults**: minimum read `intern`; create, update `supervised`; delete, schema
//!   `autonomous`. Approvals: create and update at `supervised` (a supervised agent's writes
//!   wait for a human, an autonomous agent's run directly; see defect 30 of the original). A
//!   policy file can waive that with `create = []` / `update = []` under `[approvals]`.
//! - **Callers** ([`Caller`]): a user's own key is allowed every class; a disabled agent is
//!   denied everything; other agents follow their rules.
//! - **Per-agent overrides** ([`AgentPolicy`]), by `id` (exact) or `name` (case-insensitive);
//!   id wins. `min_maturity` and `approvals` entries replace the defaults class by class;
//!   `allow` (only these classes) and `deny` (never these classes) restrict and never grant;
//!   `roots` limits every target to those pages and their descendants.
//! - **Roots and ancestry**: the crate cannot look up Notion, so [`decide`] answers
//!   [`Decision::NeedsAncestry`] with the targets it cannot place; the caller fetches their
//!   ancestors and calls [`decide_with_ancestry`] with an [`Ancestry`] (a
//!   `HashMap<String, Vec<String>>` works). Targets that are roots themselves need no lookup.
//!   Only `Allow` may execute; `NeedsApproval` and `NeedsAncestry` never do.
//!
//! # Policy file
//!
//! Every key is optional; unknown keys are errors; errors name the line and column.
//!
//! ```toml
//! # Minimum maturity per class (omitted classes keep the built-in value).
//! [min_maturity]
//! read = "intern"
//! create = "supervised"
//! update = "supervised"
//! delete = "autonomous"
//! schema = "autonomous"
//!
//! # Maturities at which a class needs a human's approval. Below the minimum, approval lifts a
//! # denial; at or above it, approval is added to an allow. Omitted classes keep the built-in
//! # value (create and update: ["supervised"]); `[]` removes approvals for a class.
//! [approvals]
//! create = ["supervised"]
//! update = ["supervised"]
//! delete = ["supervised"]   # supervised agents may ask to delete; autonomous ones just do
//!
//! # Per-agent overrides: exactly one of `id` or `name` per entry.
//! [[agents]]
//! id = "agt_01HZX3"
//! min_maturity = { update = "intern" }
//! approvals = { update = ["intern", "supervised"] }
//! deny = ["schema"]
//! roots = ["1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"]
//!
//! [[agents]]
//! name = "reporting-bot"
//! allow = ["read"]          # only reads, whatever its maturity
//! ```
//!
//! Load it with [`Policy::from_toml_str`]; [`Policy::default`] is the built-in policy.

mod class;
mod classify;
mod decision;
mod error;
mod ids;
mod maturity;
mod named;
mod policy;
mod tool;

pub use class::{ActionClass, ClassSet};
pub use classify::{
    Operation, OperationScope, WORKSPACE_TARGET, classify, classify_tool, classify_tool_action,
};
pub use decision::{
    Ancestry, ApprovalReason, Caller, Decision, DenyReason, NoAncestry, decide,
    decide_with_ancestry,
};
pub use error::{Error, PolicyError, RulesError};
pub use ids::{ids_equal, normalize_id};
pub use maturity::{Maturity, MaturitySet};
pub use named::{Named, ParseNameError, Set};
pub use policy::{AgentPolicy, AgentSelector, Policy, Rules, Verdict};
pub use tool::{ToolAction, ToolHints};
