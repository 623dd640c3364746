//! Governance: maturity levels, action classes, operation classification, policy and decisions.
