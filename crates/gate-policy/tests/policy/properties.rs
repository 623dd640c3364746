//! Property tests: monotonicity of decisions in maturity for any rules, and classification
//! that never panics and fails closed.

use gate_policy::{
    ActionClass, AgentPolicy, AgentSelector, Caller, Decision, Maturity, MaturitySet, Operation,
    OperationScope, Policy, Rules, Verdict, classify, classify_tool, decide,
};
use proptest::prelude::*;
use serde_json::Value;

fn maturity() -> impl Strategy<Value = Maturity> {
    prop::sample::select(Maturity::ALL.to_vec())
}

fn maturity_set() -> impl Strategy<Value = MaturitySet> {
    prop::collection::vec(maturity(), 0..4).prop_map(|v| v.into_iter().collect())
}

fn rank(d: &Decision) -> u8 {
    match d {
        Decision::Deny { .. } => 0,
        Decision::NeedsApproval { .. } => 1,
        Decision::Allow => 2,
        other => panic!("unexpected {other:?}"),
    }
}

/// The raw rule written independently of the crate: listed → 1, at/above min → 2, else 0.
fn raw(min: Maturity, approvals: MaturitySet, m: Maturity) -> u8 {
    if approvals.contains(m) {
        1
    } else if m >= min {
        2
    } else {
        0
    }
}

fn op(class: ActionClass) -> Operation {
    Operation::new(class, "p", OperationScope::Data, vec![])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// For any generated rules that the crate accepts, decisions never get worse as maturity
    /// rises (a higher maturity denied ⇒ every lower one denied; a lower one allowed ⇒ every
    /// higher one allowed or at least not denied); rules it rejects really are inverted.
    #[test]
    fn decisions_are_monotone_in_maturity(
        min in prop::array::uniform5(maturity()),
        approvals in prop::array::uniform5(maturity_set()),
        agent_min in prop::array::uniform5(maturity()),
        as_override in any::<bool>(),
    ) {
        let inverted = |min: [Maturity; 5], approvals: [MaturitySet; 5]| {
            ActionClass::ALL.iter().any(|c| {
                let c = c.index();
                Maturity::ALL.windows(2).any(|w| raw(min[c], approvals[c], w[0]) > raw(min[c], approvals[c], w[1]))
            })
        };
        let rules = match Rules::new(min, approvals) {
            Ok(r) => { prop_assert!(!inverted(min, approvals)); r }
            Err(_) => { prop_assert!(inverted(min, approvals)); return Ok(()); }
        };
        let mut policy = Policy::new(rules.clone());
        if as_override {
            // The same check through a per-agent override on top of the defaults.
            let agent_rules = match Rules::new(agent_min, approvals) {
                Ok(r) => r,
                Err(_) => return Ok(()),
            };
            policy.add_agent(AgentPolicy::new(AgentSelector::Id("agt".into()), agent_rules)).unwrap();
        }
        for class in ActionClass::ALL {
            let o = op(class);
            let ranks: Vec<u8> = Maturity::ALL
                .iter()
                .map(|m| rank(&decide(&policy, &Caller::agent("agt", "n", *m), &o)))
                .collect();
            for lo in 0..4 {
                for hi in lo + 1..4 {
                    if ranks[hi] == 0 { prop_assert_eq!(ranks[lo], 0, "{:?} {:?}", class, ranks); }
                    if ranks[lo] == 2 { prop_assert!(ranks[hi] != 0, "{:?} {:?}", class, ranks); }
                    prop_assert!(ranks[lo] <= ranks[hi], "{:?} {:?}", class, ranks);
                }
            }
            if !as_override {
                for m in Maturity::ALL {
                    let want = match raw(min[class.index()], approvals[class.index()], m) {
                        0 => Verdict::Deny, 1 => Verdict::NeedsApproval, _ => Verdict::Allow,
                    };
                    prop_assert_eq!(rules.verdict(class, m), want);
                }
            }
        }
    }

    /// Maturity parsing ignores case and surrounding whitespace.
    #[test]
    fn maturity_parse_any_case(m in maturity(), mask in prop::collection::vec(any::<bool>(), 10), pad in "[ \t\n]{0,3}") {
        let s: String = m.as_str().chars().zip(mask.iter().cycle())
            .map(|(c, up)| if *up { c.to_ascii_uppercase() } else { c })
            .collect();
        prop_assert_eq!(format!("{pad}{s}{pad}").parse::<Maturity>().unwrap(), m);
    }

    /// Classification never panics on arbitrary input.
    #[test]
    fn classify_never_panics(method in ".{0,8}", path in ".{0,80}", body in json_value()) {
        let _ = classify(&method, &path, Some(&body));
        let _ = classify(&method, &path, None);
        let _ = classify_tool(&path, Some(&body));
    }

    /// Path-shaped arbitrary input never panics either.
    #[test]
    fn classify_never_panics_on_pathlike(
        method in prop::sample::select(vec!["GET", "POST", "PATCH", "DELETE", "PUT", "get"]),
        segs in prop::collection::vec(prop::sample::select(vec![
            "v1", "pages", "blocks", "children", "markdown", "databases", "data_sources", "query",
            "comments", "views", "queries", "oauth", "token", "x", "", "?a=b", "meeting_notes",
        ]), 0..7),
        body in json_value(),
    ) {
        let path = format!("/{}", segs.join("/"));
        let _ = classify(method, &path, Some(&body));
    }

    /// Any path whose first segment is not a known Notion resource is delete-class, whatever
    /// the method, rest of the path or body.
    #[test]
    fn unknown_paths_are_delete(
        method in prop::sample::select(vec!["GET", "POST", "PATCH", "DELETE", "PUT", "OPTIONS"]),
        prefix in prop::sample::select(vec!["", "/", "/v1/", "v1/", "https://api.notion.com/v1/"]),
        first in "[a-z_0-9%.]{1,16}",
        rest in prop::collection::vec("[a-zA-Z0-9_-]{1,12}", 0..4),
        body in json_value(),
    ) {
        const KNOWN: [&str; 16] = [
            "users", "search", "pages", "blocks", "databases", "data_sources", "comments",
            "oauth", "file_uploads", "custom_emojis", "async_tasks", "views", "agents",
            "threads", "sessions", "external_agent_stub",
        ];
        prop_assume!(!KNOWN.contains(&first.as_str()) && first != "v1");
        let mut path = format!("{prefix}{first}");
        for r in &rest { path.push('/'); path.push_str(r); }
        let op = classify(method, &path, Some(&body));
        prop_assert_eq!(op.class, ActionClass::Delete);
        prop_assert_eq!(op.scope, OperationScope::Unknown);
    }

    /// Unknown tool actions are delete-class.
    #[test]
    fn unknown_tool_actions_are_delete(name in "[a-z_]{0,20}") {
        prop_assume!(gate_policy::ToolAction::parse(&name).is_none());
        prop_assert_eq!(classify_tool(&name, None).class, ActionClass::Delete);
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "in_trash",
            "archived",
            "erase_content",
            "allow_deleting_content",
            "type",
            "insert_content",
            "replace_content",
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        prop::sample::select(vec![
                            "in_trash",
                            "archived",
                            "erase_content",
                            "allow_deleting_content",
                            "type",
                            "parent",
                            "page_id",
                            "database_id",
                            "insert_content",
                            "replace_content",
                            "update_content",
                        ])
                        .prop_map(str::to_string),
                        "[a-z_]{1,8}",
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}
