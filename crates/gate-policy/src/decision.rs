//! Decisions: who is calling ([`Caller`]), what the policy says ([`Decision`]) and why
//! ([`DenyReason`], [`ApprovalReason`]); root-page checks through [`Ancestry`].

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::BuildHasher;

use crate::class::ActionClass;
use crate::classify::{Operation, OperationScope, WORKSPACE_TARGET};
use crate::ids::ids_equal;
use crate::maturity::Maturity;
use crate::policy::{Policy, Verdict};

/// Who is making a call. Borrowed, so building one per request costs nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Caller<'a> {
    /// A human with their own key: every class is allowed (still audited, still bound by
    /// local-only mode, which is checked outside this crate). `admin` does not change
    /// decisions here; it is carried for surfaces such as answering approvals.
    User {
        /// The user's id.
        id: &'a str,
        /// Whether the user administers the gateway.
        admin: bool,
    },
    /// An agent acting with its own key.
    Agent {
        /// The agent's id (matched exactly against `[[agents]] id`).
        id: &'a str,
        /// The agent's name (matched trimmed and case-insensitively against `[[agents]] name`).
        name: &'a str,
        /// The agent's maturity, as looked up from the store (never taken from the request).
        maturity: Maturity,
        /// A paused, deprecated, stopped or deleted agent: denied everything.
        disabled: bool,
    },
}

impl<'a> Caller<'a> {
    /// A human user.
    pub const fn user(id: &'a str, admin: bool) -> Self {
        Caller::User { id, admin }
    }

    /// An enabled agent.
    pub const fn agent(id: &'a str, name: &'a str, maturity: Maturity) -> Self {
        Caller::Agent {
            id,
            name,
            maturity,
            disabled: false,
        }
    }

    /// A disabled agent (paused, deprecated, stopped, deleted).
    pub const fn disabled_agent(id: &'a str, name: &'a str, maturity: Maturity) -> Self {
        Caller::Agent {
            id,
            name,
            maturity,
            disabled: true,
        }
    }
}

/// Why a call was refused. Exhaustive on purpose: the gateway maps every reason to its answer
/// by `match`, so a new reason fails to compile until it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenyReason {
    /// The agent is disabled.
    AgentDisabled,
    /// The agent's maturity is below what the class needs.
    MaturityTooLow {
        /// The operation's class.
        class: ActionClass,
        /// The agent's maturity.
        maturity: Maturity,
        /// The lowest maturity that would not be denied (it may need approval).
        required: Maturity,
    },
    /// The agent's allow/deny lists exclude the class.
    ClassNotPermitted {
        /// The operation's class.
        class: ActionClass,
    },
    /// A target is not one of the agent's root pages and not under one.
    OutsideRoots {
        /// The first offending target ([`WORKSPACE_TARGET`] for the workspace level).
        target: String,
    },
    /// The operation is never forwarded (OAuth, agents API).
    NotProxied {
        /// The operation name, e.g. `"oauth.token"`.
        operation: &'static str,
    },
}

impl DenyReason {
    /// A stable machine-readable code: `agent_disabled`, `maturity_too_low`,
    /// `class_not_permitted`, `outside_roots`, `not_proxied`.
    pub fn code(&self) -> &'static str {
        match self {
            DenyReason::AgentDisabled => "agent_disabled",
            DenyReason::MaturityTooLow { .. } => "maturity_too_low",
            DenyReason::ClassNotPermitted { .. } => "class_not_permitted",
            DenyReason::OutsideRoots { .. } => "outside_roots",
            DenyReason::NotProxied { .. } => "not_proxied",
        }
    }
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DenyReason::AgentDisabled => f.write_str("the agent is disabled"),
            DenyReason::MaturityTooLow {
                class,
                maturity,
                required,
            } => write!(
                f,
                "{class} operations require {required} maturity or higher (agent is {maturity})"
            ),
            DenyReason::ClassNotPermitted { class } => {
                write!(f, "{class} operations are not permitted for this agent")
            }
            DenyReason::OutsideRoots { target } => {
                write!(f, "target {target} is outside the agent's allowed pages")
            }
            DenyReason::NotProxied { operation } => write!(
                f,
                "{operation} is not a Notion data operation and is never forwarded"
            ),
        }
    }
}

/// Why a call needs a human's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApprovalReason {
    /// The operation's class.
    pub class: ActionClass,
    /// The agent's maturity.
    pub maturity: Maturity,
}

impl fmt::Display for ApprovalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} operations by a {} agent need human approval",
            self.class, self.maturity
        )
    }
}

/// The policy's answer. Only [`Decision::Allow`] may execute.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Refused.
    Deny {
        /// Why.
        reason: DenyReason,
        /// For maturity denials, the lowest maturity that would not be denied.
        needed: Option<Maturity>,
    },
    /// Store the call and wait for a human; never execute on this answer.
    NeedsApproval {
        /// Why.
        reason: ApprovalReason,
    },
    /// The agent is limited to root pages and these targets' ancestors are not known: look
    /// them up and decide again with [`decide_with_ancestry`]. Never execute on this answer.
    NeedsAncestry {
        /// Targets (from [`Operation::targets`]) whose ancestry is needed.
        targets: Vec<String>,
    },
}

impl Decision {
    /// Whether the call may execute now.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }

    /// `allow`, `deny`, `needs_approval` or `needs_ancestry`.
    pub fn code(&self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Deny { .. } => "deny",
            Decision::NeedsApproval { .. } => "needs_approval",
            Decision::NeedsAncestry { .. } => "needs_ancestry",
        }
    }

    fn deny(reason: DenyReason) -> Self {
        Decision::Deny {
            reason,
            needed: None,
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Allow => f.write_str("allowed"),
            Decision::Deny { reason, .. } => write!(f, "denied: {reason}"),
            Decision::NeedsApproval { reason } => write!(f, "needs approval: {reason}"),
            Decision::NeedsAncestry { targets } => {
                write!(f, "needs the ancestry of {}", targets.join(", "))
            }
        }
    }
}

/// Known ancestors of Notion objects, gathered by the caller (this crate does no IO).
///
/// `ancestors_of(target)` returns every ancestor of `target` up to the workspace (pages,
/// databases, data sources, blocks; order irrelevant), or `None` when unknown. Keys are looked
/// up as they appear in [`Operation::targets`] (normalised dashed lowercase, see
/// [`crate::normalize_id`]); ancestor ids are compared ignoring dashes and case.
pub trait Ancestry {
    /// The ancestors of `target`, or `None` when not known.
    fn ancestors_of(&self, target: &str) -> Option<&[String]>;
}

/// No ancestry known: root-limited agents get [`Decision::NeedsAncestry`] for any target
/// that is not itself a root.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAncestry;

impl Ancestry for NoAncestry {
    fn ancestors_of(&self, _target: &str) -> Option<&[String]> {
        None
    }
}

impl<S: BuildHasher> Ancestry for HashMap<String, Vec<String>, S> {
    fn ancestors_of(&self, target: &str) -> Option<&[String]> {
        self.get(target).map(Vec::as_slice)
    }
}

impl Ancestry for BTreeMap<String, Vec<String>> {
    fn ancestors_of(&self, target: &str) -> Option<&[String]> {
        self.get(target).map(Vec::as_slice)
    }
}

impl<T: Ancestry + ?Sized> Ancestry for &T {
    fn ancestors_of(&self, target: &str) -> Option<&[String]> {
        (**self).ancestors_of(target)
    }
}

/// Decides without ancestry: root-limited agents get [`Decision::NeedsAncestry`] unless every
/// target is itself a root. Equivalent to [`decide_with_ancestry`] with [`NoAncestry`].
pub fn decide(policy: &Policy, caller: &Caller<'_>, op: &Operation) -> Decision {
    decide_with_ancestry(policy, caller, op, &NoAncestry)
}

/// Decides a call. Deterministic; does not allocate unless it denies for roots or asks for
/// ancestry.
///
/// Order: not-proxied operations are denied for everyone; users are allowed; a disabled agent
/// is denied; the agent's allow/deny class lists; its maturity verdict (deny, approval or
/// allow); then, for agents with roots, every target must be a root or have a root among its
/// ancestors ([`WORKSPACE_TARGET`] never passes; unknown ancestry gives
/// [`Decision::NeedsAncestry`], an outside target denies). Operations without targets
/// (search, users, file uploads) are not limited by roots; filtering their results is the
/// caller's job.
pub fn decide_with_ancestry<A: Ancestry + ?Sized>(
    policy: &Policy,
    caller: &Caller<'_>,
    op: &Operation,
    ancestry: &A,
) -> Decision {
    if op.scope == OperationScope::NotProxied {
        return Decision::deny(DenyReason::NotProxied { operation: op.name });
    }
    let (id, name, maturity) = match *caller {
        Caller::User { .. } => return Decision::Allow,
        Caller::Agent { disabled: true, .. } => return Decision::deny(DenyReason::AgentDisabled),
        Caller::Agent {
            id, name, maturity, ..
        } => (id, name, maturity),
    };
    let class = op.class;
    let agent = policy.agent_policy(id, name);
    if let Some(a) = agent
        && !a.permits_class(class)
    {
        return Decision::deny(DenyReason::ClassNotPermitted { class });
    }
    let rules = agent.map_or(policy.defaults(), |a| a.rules());
    let verdict = rules.verdict(class, maturity);
    if verdict == Verdict::Deny {
        let required = rules.lowest_not_denied(class);
        return Decision::Deny {
            reason: DenyReason::MaturityTooLow {
                class,
                maturity,
                required,
            },
            needed: Some(required),
        };
    }
    if let Some(roots) = agent.and_then(|a| a.roots())
        && let Some(d) = check_roots(roots, &op.targets, ancestry)
    {
        return d;
    }
    match verdict {
        Verdict::NeedsApproval => Decision::NeedsApproval {
            reason: ApprovalReason { class, maturity },
        },
        _ => Decision::Allow,
    }
}

fn check_roots<A: Ancestry + ?Sized>(
    roots: &[String],
    targets: &[String],
    ancestry: &A,
) -> Option<Decision> {
    let is_root = |id: &str| roots.iter().any(|r| ids_equal(r, id));
    let mut missing: Vec<String> = Vec::new();
    for t in targets {
        if t == WORKSPACE_TARGET {
            return Some(Decision::deny(DenyReason::OutsideRoots {
                target: t.clone(),
            }));
        }
        if is_root(t) {
            continue;
        }
        match ancestry.ancestors_of(t) {
            Some(anc) if anc.iter().any(|a| is_root(a)) => {}
            Some(_) => {
                return Some(Decision::deny(DenyReason::OutsideRoots {
                    target: t.clone(),
                }));
            }
            None => missing.push(t.clone()),
        }
    }
    (!missing.is_empty()).then_some(Decision::NeedsAncestry { targets: missing })
}
