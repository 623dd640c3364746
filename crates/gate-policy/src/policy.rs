//! Policy as data: per-class maturity rules, per-agent overrides and root-page allow-lists,
//! built in code or loaded from TOML.

use std::collections::HashMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::class::{ActionClass, ClassSet};
use crate::classify::Operation;
use crate::decision::{Ancestry, Caller, Decision, NoAncestry, decide_with_ancestry};
use crate::error::{PolicyError, RulesError};
use crate::ids::normalize_id;
use crate::maturity::{Maturity, MaturitySet};

/// What the maturity rules say about one class at one maturity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Verdict {
    /// Refused.
    Deny,
    /// Allowed only after a human approves.
    NeedsApproval,
    /// Allowed.
    Allow,
}

/// Maturity rules for every class: a minimum maturity and a set of maturities that need human
/// approval.
///
/// For class `c` and maturity `m`:
/// - `m` listed in `approvals(c)` → [`Verdict::NeedsApproval`] (whether `m` is below the
///   minimum, where approval *lifts a denial*, or at/above it, where approval is *added to an
///   allow*);
/// - otherwise `m >= min_maturity(c)` → [`Verdict::Allow`];
/// - otherwise → [`Verdict::Deny`].
///
/// Rules are validated so that, per class, `Deny < NeedsApproval < Allow` never decreases as
/// maturity rises: a less mature agent never gets more than a more mature one. Concretely an
/// approval set must be one contiguous run of maturities that ends just below the minimum
/// and/or starts at the minimum, e.g. `min = autonomous, approvals = [supervised]` (supervised
/// asks, autonomous acts) or `min = supervised, approvals = [supervised]` (the same outcome).
/// `approvals = [intern]` with `min = autonomous` is rejected ([`RulesError`]), because a
/// supervised agent would be denied what an intern may ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    min: [Maturity; 5],
    approvals: [MaturitySet; 5],
    table: [[Verdict; 4]; 5],
}

impl Rules {
    /// The built-in minimum maturity per class (indexed by [`ActionClass::index`]): read
    /// intern; create and update supervised; delete and schema autonomous.
    pub const BUILTIN_MIN: [Maturity; 5] = [
        Maturity::Intern,
        Maturity::Supervised,
        Maturity::Supervised,
        Maturity::Autonomous,
        Maturity::Autonomous,
    ];

    /// The built-in approval sets: `create` and `update` need approval at `supervised` (so a
    /// supervised agent's writes wait for a human, an autonomous agent's run directly); no
    /// other class needs approval.
    pub const BUILTIN_APPROVALS: [MaturitySet; 5] = [
        MaturitySet::EMPTY,
        MaturitySet::only(Maturity::Supervised),
        MaturitySet::only(Maturity::Supervised),
        MaturitySet::EMPTY,
        MaturitySet::EMPTY,
    ];

    /// Builds and validates rules from per-class arrays indexed by [`ActionClass::index`].
    pub fn new(min: [Maturity; 5], approvals: [MaturitySet; 5]) -> Result<Rules, RulesError> {
        let mut table = [[Verdict::Deny; 4]; 5];
        for class in ActionClass::ALL {
            let c = class.index();
            let mut prev: Option<(Maturity, Verdict)> = None;
            for m in Maturity::ALL {
                let v = if approvals[c].contains(m) {
                    Verdict::NeedsApproval
                } else if m >= min[c] {
                    Verdict::Allow
                } else {
                    Verdict::Deny
                };
                if let Some((pm, pv)) = prev
                    && v < pv
                {
                    return Err(if pv == Verdict::NeedsApproval {
                        RulesError::ApprovalBelowDenied {
                            class,
                            listed: pm,
                            denied: m,
                            min: min[c],
                        }
                    } else {
                        RulesError::ApprovalAboveAllowed {
                            class,
                            listed: m,
                            allowed: pm,
                            min: min[c],
                        }
                    });
                }
                table[c][m.index()] = v;
                prev = Some((m, v));
            }
        }
        Ok(Rules {
            min,
            approvals,
            table,
        })
    }

    /// These rules with one class's minimum maturity changed.
    pub fn with_min_maturity(&self, class: ActionClass, m: Maturity) -> Result<Rules, RulesError> {
        let mut min = self.min;
        min[class.index()] = m;
        Rules::new(min, self.approvals)
    }

    /// These rules with one class's approval set replaced.
    pub fn with_approvals(
        &self,
        class: ActionClass,
        set: MaturitySet,
    ) -> Result<Rules, RulesError> {
        let mut approvals = self.approvals;
        approvals[class.index()] = set;
        Rules::new(self.min, approvals)
    }

    /// Minimum maturity for `class` to be allowed without approval (unless listed in
    /// [`Rules::approvals`]).
    pub fn min_maturity(&self, class: ActionClass) -> Maturity {
        self.min[class.index()]
    }

    /// Maturities at which `class` needs approval.
    pub fn approvals(&self, class: ActionClass) -> MaturitySet {
        self.approvals[class.index()]
    }

    /// The verdict for `class` at maturity `m` (a table lookup).
    #[inline]
    pub fn verdict(&self, class: ActionClass, m: Maturity) -> Verdict {
        self.table[class.index()][m.index()]
    }

    /// The lowest maturity that is not denied `class` (it may still need approval).
    pub fn lowest_not_denied(&self, class: ActionClass) -> Maturity {
        Maturity::ALL
            .into_iter()
            .find(|m| self.verdict(class, *m) != Verdict::Deny)
            .unwrap_or(Maturity::Autonomous)
    }
}

impl Default for Rules {
    /// [`Rules::BUILTIN_MIN`] with [`Rules::BUILTIN_APPROVALS`].
    fn default() -> Self {
        match Rules::new(Rules::BUILTIN_MIN, Rules::BUILTIN_APPROVALS) {
            Ok(r) => r,
            Err(e) => unreachable!("built-in rules are valid: {e}"),
        }
    }
}

/// Which agent an [`AgentPolicy`] applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AgentSelector {
    /// The agent with this id (exact match). Takes precedence over a name match.
    Id(String),
    /// Agents with this name (trimmed, ASCII case-insensitive).
    Name(String),
}

/// Per-agent overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentPolicy {
    selector: AgentSelector,
    rules: Rules,
    allow: Option<ClassSet>,
    deny: ClassSet,
    roots: Option<Vec<String>>,
}

impl AgentPolicy {
    /// An override that applies `rules` (the agent's *effective* rules, usually derived from
    /// the policy defaults) to the selected agent, with no class restrictions and no roots.
    pub fn new(selector: AgentSelector, rules: Rules) -> Self {
        Self {
            selector,
            rules,
            allow: None,
            deny: ClassSet::EMPTY,
            roots: None,
        }
    }

    /// Only these classes may be used at all (still subject to maturity). Restricts, never
    /// grants.
    pub fn with_allowed_classes(mut self, classes: ClassSet) -> Self {
        self.allow = Some(classes);
        self
    }

    /// These classes are always denied. Restricts, never grants.
    pub fn with_denied_classes(mut self, classes: ClassSet) -> Self {
        self.deny = classes;
        self
    }

    /// Every target must be one of these pages (or databases, data sources, blocks) or lie
    /// under one. Ids are normalised; anything that is not a Notion id is an error.
    pub fn with_roots<I, S>(mut self, roots: I) -> Result<Self, PolicyError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out = Vec::new();
        for r in roots {
            let r = r.as_ref();
            out.push(normalize_id(r).ok_or_else(|| PolicyError::new(bad_root(r)))?);
        }
        self.roots = Some(out);
        Ok(self)
    }

    /// Which agent this applies to.
    pub fn selector(&self) -> &AgentSelector {
        &self.selector
    }

    /// The agent's effective maturity rules.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The allow-list of classes, if any.
    pub fn allowed_classes(&self) -> Option<ClassSet> {
        self.allow
    }

    /// The deny-list of classes.
    pub fn denied_classes(&self) -> ClassSet {
        self.deny
    }

    /// The root allow-list (normalised ids), if any.
    pub fn roots(&self) -> Option<&[String]> {
        self.roots.as_deref()
    }

    /// Whether the allow/deny lists permit `class` at all.
    #[inline]
    pub fn permits_class(&self, class: ActionClass) -> bool {
        !self.deny.contains(class) && self.allow.is_none_or(|a| a.contains(class))
    }
}

fn bad_root(r: &str) -> String {
    format!("root {r:?} is not a Notion id: expected 32 hex digits, with or without dashes")
}

/// The whole policy: default rules plus per-agent overrides.
///
/// [`Policy::default`] is [`Rules::default`] with no overrides. See the crate docs for the
/// file format.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    defaults: Rules,
    agents: Vec<AgentPolicy>,
    by_id: HashMap<String, usize>,
    by_name: Vec<(String, usize)>,
}

impl Policy {
    /// A policy with these default rules and no overrides.
    pub fn new(defaults: Rules) -> Self {
        Self {
            defaults,
            ..Self::default()
        }
    }

    /// Adds an override; an error if another override has the same selector.
    pub fn add_agent(&mut self, agent: AgentPolicy) -> Result<(), PolicyError> {
        let idx = self.agents.len();
        match &agent.selector {
            AgentSelector::Id(id) => {
                let id = id.trim();
                if id.is_empty() {
                    return Err(PolicyError::new("agent `id` is empty"));
                }
                if self.by_id.contains_key(id) {
                    return Err(PolicyError::new(format!(
                        "agent id {id:?} has more than one [[agents]] entry"
                    )));
                }
                self.by_id.insert(id.to_owned(), idx);
            }
            AgentSelector::Name(name) => {
                let name = name.trim();
                if name.is_empty() {
                    return Err(PolicyError::new("agent `name` is empty"));
                }
                if self
                    .by_name
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case(name))
                {
                    return Err(PolicyError::new(format!(
                        "agent name {name:?} has more than one [[agents]] entry"
                    )));
                }
                self.by_name.push((name.to_owned(), idx));
            }
        }
        self.agents.push(agent);
        Ok(())
    }

    /// The default rules (for agents without an override).
    pub fn defaults(&self) -> &Rules {
        &self.defaults
    }

    /// All overrides, in file order.
    pub fn agents(&self) -> &[AgentPolicy] {
        &self.agents
    }

    /// The override for an agent: by exact id first, then by name (trimmed, ASCII
    /// case-insensitive). Does not allocate.
    #[inline]
    pub fn agent_policy(&self, id: &str, name: &str) -> Option<&AgentPolicy> {
        if let Some(i) = self.by_id.get(id) {
            return self.agents.get(*i);
        }
        if self.by_name.is_empty() {
            return None;
        }
        let name = name.trim();
        self.by_name
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, i)| self.agents.get(*i))
    }

    /// The rules that apply to an agent.
    pub fn rules_for(&self, id: &str, name: &str) -> &Rules {
        self.agent_policy(id, name)
            .map_or(&self.defaults, AgentPolicy::rules)
    }

    /// [`crate::decide`] with this policy.
    pub fn decide(&self, caller: &Caller<'_>, op: &Operation) -> Decision {
        decide_with_ancestry(self, caller, op, &NoAncestry)
    }

    /// [`crate::decide_with_ancestry`] with this policy.
    pub fn decide_with_ancestry<A: Ancestry + ?Sized>(
        &self,
        caller: &Caller<'_>,
        op: &Operation,
        ancestry: &A,
    ) -> Decision {
        decide_with_ancestry(self, caller, op, ancestry)
    }

    /// Loads a policy file (see the crate docs). Unknown keys, bad values and inconsistent
    /// rules are errors that name the line and column.
    pub fn from_toml_str(input: &str) -> Result<Policy, PolicyError> {
        let file: PolicyFile = toml::from_str(input)
            .map_err(|e| PolicyError::at(input, e.span().map(|r| r.start), e.message()))?;
        let at = |span: Option<Range<usize>>, msg: String| {
            PolicyError::at(input, span.map(|r| r.start), msg)
        };

        let defaults = file
            .overlay(&Rules::default())
            .map_err(|(span, e)| at(span, e.to_string()))?;
        let mut policy = Policy::new(defaults);

        for entry in file.agents {
            let entry_span = entry.span();
            let agent = entry.into_inner();
            let (selector, sel_span) = match (agent.id, agent.name) {
                (Some(id), None) => (AgentSelector::Id(id.get_ref().trim().to_owned()), id.span()),
                (None, Some(name)) => (
                    AgentSelector::Name(name.get_ref().trim().to_owned()),
                    name.span(),
                ),
                _ => {
                    return Err(at(
                        Some(entry_span),
                        "each [[agents]] entry needs exactly one of `id` or `name`".into(),
                    ));
                }
            };
            let rules = overlay(&agent.min_maturity, &agent.approvals, &policy.defaults)
                .map_err(|(span, e)| at(span.or(Some(sel_span.clone())), e.to_string()))?;
            let mut ap = AgentPolicy::new(selector, rules);
            if let Some(allow) = agent.allow {
                ap = ap.with_allowed_classes(allow.into_iter().collect());
            }
            ap = ap.with_denied_classes(agent.deny.into_iter().collect());
            if let Some(roots) = agent.roots {
                let mut out = Vec::with_capacity(roots.len());
                for r in roots {
                    match normalize_id(r.get_ref()) {
                        Some(id) => out.push(id),
                        None => return Err(at(Some(r.span()), bad_root(r.get_ref()))),
                    }
                }
                ap.roots = Some(out);
            }
            policy
                .add_agent(ap)
                .map_err(|e| at(Some(sel_span), e.message().to_owned()))?;
        }
        Ok(policy)
    }
}

// ---- file format -------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    min_maturity: ClassTable<Maturity>,
    #[serde(default)]
    approvals: ClassTable<MaturitySet>,
    #[serde(default)]
    agents: Vec<Spanned<AgentFile>>,
}

impl PolicyFile {
    fn overlay(&self, base: &Rules) -> Result<Rules, (Option<Range<usize>>, RulesError)> {
        overlay(&self.min_maturity, &self.approvals, base)
    }
}

fn overlay(
    min_maturity: &ClassTable<Maturity>,
    approval_table: &ClassTable<MaturitySet>,
    base: &Rules,
) -> Result<Rules, (Option<Range<usize>>, RulesError)> {
    {
        let mut min = base.min;
        let mut approvals = base.approvals;
        for class in ActionClass::ALL {
            if let Some(m) = min_maturity.get(class) {
                min[class.index()] = *m.get_ref();
            }
            if let Some(a) = approval_table.get(class) {
                approvals[class.index()] = *a.get_ref();
            }
        }
        Rules::new(min, approvals).map_err(|e| {
            let class = match &e {
                RulesError::ApprovalBelowDenied { class, .. }
                | RulesError::ApprovalAboveAllowed { class, .. } => *class,
            };
            let span = approval_table
                .get(class)
                .map(Spanned::span)
                .or_else(|| min_maturity.get(class).map(Spanned::span));
            (span, e)
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassTable<T> {
    read: Option<Spanned<T>>,
    create: Option<Spanned<T>>,
    update: Option<Spanned<T>>,
    delete: Option<Spanned<T>>,
    schema: Option<Spanned<T>>,
}

impl<T> Default for ClassTable<T> {
    fn default() -> Self {
        Self {
            read: None,
            create: None,
            update: None,
            delete: None,
            schema: None,
        }
    }
}

impl<T> ClassTable<T> {
    fn get(&self, class: ActionClass) -> Option<&Spanned<T>> {
        match class {
            ActionClass::Read => self.read.as_ref(),
            ActionClass::Create => self.create.as_ref(),
            ActionClass::Update => self.update.as_ref(),
            ActionClass::Delete => self.delete.as_ref(),
            ActionClass::Schema => self.schema.as_ref(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentFile {
    id: Option<Spanned<String>>,
    name: Option<Spanned<String>>,
    #[serde(default)]
    min_maturity: ClassTable<Maturity>,
    #[serde(default)]
    approvals: ClassTable<MaturitySet>,
    allow: Option<Vec<ActionClass>>,
    #[serde(default)]
    deny: Vec<ActionClass>,
    roots: Option<Vec<Spanned<String>>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_table() {
        let r = Rules::default();
        use Maturity::*;
        use Verdict::*;
        let want = [
            (ActionClass::Read, [Deny, Allow, Allow, Allow]),
            (ActionClass::Create, [Deny, Deny, NeedsApproval, Allow]),
            (ActionClass::Update, [Deny, Deny, NeedsApproval, Allow]),
            (ActionClass::Delete, [Deny, Deny, Deny, Allow]),
            (ActionClass::Schema, [Deny, Deny, Deny, Allow]),
        ];
        for (class, row) in want {
            for (m, v) in [Student, Intern, Supervised, Autonomous]
                .into_iter()
                .zip(row)
            {
                assert_eq!(r.verdict(class, m), v, "{class} at {m}");
            }
        }
    }

    #[test]
    fn rejects_inverted_approvals() {
        let e = Rules::default()
            .with_approvals(ActionClass::Delete, MaturitySet::of(&[Maturity::Intern]))
            .unwrap_err();
        assert!(matches!(
            e,
            RulesError::ApprovalBelowDenied {
                denied: Maturity::Supervised,
                ..
            }
        ));
        let e = Rules::default()
            .with_approvals(ActionClass::Read, MaturitySet::of(&[Maturity::Autonomous]))
            .unwrap_err();
        assert!(matches!(
            e,
            RulesError::ApprovalAboveAllowed {
                allowed: Maturity::Supervised,
                ..
            }
        ));
    }
}
