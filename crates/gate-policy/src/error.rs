//! Error types of the crate.

use crate::class::ActionClass;
use crate::maturity::Maturity;
use crate::named::ParseNameError;

/// Maturity rules for one class that would let a less mature agent do more than a more mature
/// one (see [`crate::Rules`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RulesError {
    /// A maturity listed for approval sits below an unlisted maturity that would be denied.
    #[error(
        "approvals for `{class}` list `{listed}`, but `{denied}` is not listed and is below the minimum `{min}`, so it would be denied: a less mature agent cannot get more than a more mature one; list every maturity from `{listed}` up to `{min}`, or lower the minimum"
    )]
    ApprovalBelowDenied {
        /// The class concerned.
        class: ActionClass,
        /// The listed (lower) maturity.
        listed: Maturity,
        /// The higher maturity that would be denied.
        denied: Maturity,
        /// The class's minimum maturity.
        min: Maturity,
    },
    /// A maturity listed for approval sits above one that is allowed without approval.
    #[error(
        "approvals for `{class}` list `{listed}`, but `{allowed}` (lower) is allowed without approval since the minimum is `{min}`: a more mature agent cannot be held to more than a less mature one; list `{allowed}` too, or raise the minimum"
    )]
    ApprovalAboveAllowed {
        /// The class concerned.
        class: ActionClass,
        /// The listed (higher) maturity.
        listed: Maturity,
        /// The lower maturity that would be allowed directly.
        allowed: Maturity,
        /// The class's minimum maturity.
        min: Maturity,
    },
}

/// A policy that could not be loaded or built.
///
/// For files, [`PolicyError::line`] and [`PolicyError::column`] (1-based) point at the offending
/// key or value, and the message quotes that line, e.g.
/// `policy file line 4, column 10: unknown maturity level "expert": … (at: delete = "expert")`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct PolicyError {
    line: Option<usize>,
    column: Option<usize>,
    message: String,
    snippet: Option<String>,
}

impl PolicyError {
    /// An error without a file position (programmatic construction).
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            line: None,
            column: None,
            message: message.into(),
            snippet: None,
        }
    }

    /// An error at byte `offset` of `input`.
    pub(crate) fn at(input: &str, offset: Option<usize>, message: impl Into<String>) -> Self {
        let mut e = Self::new(message);
        if let Some(offset) = offset {
            let offset = offset.min(input.len());
            let before = input.get(..offset).unwrap_or(input);
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            e.line = Some(before.matches('\n').count() + 1);
            e.column = Some(before[line_start..].chars().count() + 1);
            let line_text = input[line_start..].lines().next().unwrap_or("").trim();
            if !line_text.is_empty() {
                e.snippet = Some(line_text.to_owned());
            }
        }
        e
    }

    /// 1-based line of the problem in the policy file, when known.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// 1-based column (in characters) of the problem, when known.
    pub fn column(&self) -> Option<usize> {
        self.column
    }

    /// What is wrong, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }

    fn render(&self) -> String {
        let mut s = match (self.line, self.column) {
            (Some(l), Some(c)) => format!("policy file line {l}, column {c}: {}", self.message),
            (Some(l), None) => format!("policy file line {l}: {}", self.message),
            _ => format!("policy: {}", self.message),
        };
        if let Some(snippet) = &self.snippet {
            s.push_str(" (at: ");
            s.push_str(snippet);
            s.push(')');
        }
        s
    }
}

/// Any error of this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A maturity level or an action class that does not exist; see [`ParseNameError`].
    #[error(transparent)]
    Name(#[from] ParseNameError),
    /// See [`RulesError`].
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// See [`PolicyError`].
    #[error(transparent)]
    Policy(#[from] PolicyError),
}
