//! Loading policy files: a valid file (the crate-docs example) and bad files whose errors name
//! the line.

use gate_policy::{ActionClass, AgentSelector, ClassSet, Maturity, MaturitySet, Policy, Verdict};

/// The example from the crate docs, verbatim.
const EXAMPLE: &str = r#"
# Minimum maturity per class (omitted classes keep the built-in value).
[min_maturity]
read = "intern"
create = "supervised"
update = "supervised"
delete = "autonomous"
schema = "autonomous"

# Maturities at which a class needs a human's approval.
[approvals]
create = ["supervised"]
update = ["supervised"]
delete = ["supervised"]   # supervised agents may ask to delete; autonomous ones just do

# Per-agent overrides: exactly one of `id` or `name` per entry.
[[agents]]
id = "agt_01HZX3"
min_maturity = { update = "intern" }
approvals = { update = ["intern", "supervised"] }
deny = ["schema"]
roots = ["1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"]

[[agents]]
name = "reporting-bot"
allow = ["read"]          # only reads, whatever its maturity
"#;

#[test]
fn loads_the_documented_example() {
    let p = Policy::from_toml_str(EXAMPLE).unwrap();
    let d = p.defaults();
    assert_eq!(d.min_maturity(ActionClass::Read), Maturity::Intern);
    assert_eq!(
        d.approvals(ActionClass::Delete),
        MaturitySet::of(&[Maturity::Supervised])
    );
    assert_eq!(
        d.verdict(ActionClass::Delete, Maturity::Supervised),
        Verdict::NeedsApproval
    );
    assert_eq!(p.agents().len(), 2);
    let a = &p.agents()[0];
    assert_eq!(a.selector(), &AgentSelector::Id("agt_01HZX3".into()));
    assert_eq!(
        a.rules().min_maturity(ActionClass::Update),
        Maturity::Intern
    );
    // Not overridden: inherited from the file's defaults.
    assert_eq!(
        a.rules().approvals(ActionClass::Delete),
        MaturitySet::of(&[Maturity::Supervised])
    );
    assert_eq!(a.denied_classes(), ClassSet::of(&[ActionClass::Schema]));
    assert_eq!(
        a.roots().unwrap(),
        ["1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d".to_string()]
    );
    let b = &p.agents()[1];
    assert_eq!(b.selector(), &AgentSelector::Name("reporting-bot".into()));
    assert_eq!(
        b.allowed_classes(),
        Some(ClassSet::of(&[ActionClass::Read]))
    );
}

#[test]
fn empty_file_is_the_default_policy() {
    let p = Policy::from_toml_str("").unwrap();
    let d = Policy::default();
    assert_eq!(p.defaults(), d.defaults());
    assert!(p.agents().is_empty());
}

#[test]
fn maturity_values_are_case_insensitive_in_files() {
    let p =
        Policy::from_toml_str("[min_maturity]\nread = \"  Student \"\ndelete = \"SUPERVISED\"\n")
            .unwrap();
    assert_eq!(
        p.defaults().min_maturity(ActionClass::Read),
        Maturity::Student
    );
    assert_eq!(
        p.defaults().min_maturity(ActionClass::Delete),
        Maturity::Supervised
    );
}

#[test]
fn approvals_can_be_waived() {
    let p = Policy::from_toml_str("[approvals]\ncreate = []\nupdate = []\n").unwrap();
    assert_eq!(
        p.defaults()
            .verdict(ActionClass::Create, Maturity::Supervised),
        Verdict::Allow
    );
}

fn err(input: &str) -> (Option<usize>, String) {
    let e = Policy::from_toml_str(input).unwrap_err();
    (e.line(), e.to_string())
}

#[test]
fn unknown_top_level_field_names_line() {
    let (line, msg) = err("[min_maturity]\nread = \"intern\"\n\n[approval]\ndelete = []\n");
    assert_eq!(line, Some(4));
    assert!(msg.starts_with("policy file line 4, column "), "{msg}");
    assert!(msg.contains("unknown field `approval`"), "{msg}");
    assert!(
        msg.contains("`min_maturity`, `approvals`, `agents`"),
        "{msg}"
    );
}

#[test]
fn unknown_class_key_names_line_and_column() {
    let (line, msg) = err("[min_maturity]\nread = \"intern\"\nwrite = \"supervised\"\n");
    assert_eq!(line, Some(3));
    assert!(
        msg.starts_with("policy file line 3, column 1: unknown field `write`"),
        "{msg}"
    );
    assert!(msg.contains("(at: write = \"supervised\")"), "{msg}");
}

#[test]
fn unknown_agent_field_names_line() {
    let (line, msg) = err("[[agents]]\nid = \"a\"\nmaturity = \"autonomous\"\n");
    assert_eq!(line, Some(3));
    assert!(
        msg.contains("policy file line 3, column 1: unknown field `maturity`"),
        "{msg}"
    );
}

#[test]
fn bad_maturity_names_line_column_and_accepted_values() {
    let (line, msg) = err("# comment\n[min_maturity]\nread = \"intern\"\ndelete = \"expert\"\n");
    assert_eq!(line, Some(4));
    assert!(
        msg.starts_with(
            "policy file line 4, column 10: unknown maturity level \"expert\": expected one of student, intern, supervised, autonomous"
        ),
        "{msg}"
    );
    assert!(msg.ends_with("(at: delete = \"expert\")"), "{msg}");
}

#[test]
fn bad_maturity_inside_agent_names_line() {
    let (line, msg) = err("[[agents]]\nname = \"x\"\nmin_maturity = { read = \"paused\" }\n");
    assert_eq!(line, Some(3));
    assert!(msg.contains("unknown maturity level \"paused\""), "{msg}");
}

#[test]
fn bad_class_names_line() {
    let (line, msg) = err("[[agents]]\nid = \"a\"\n\ndeny = [\"read\", \"write\"]\n");
    assert_eq!(line, Some(4));
    assert!(msg.contains("unknown action class \"write\""), "{msg}");
    assert!(
        msg.contains("read, create, update, delete, schema"),
        "{msg}"
    );
}

#[test]
fn wrong_type_names_line() {
    let (line, msg) = err("[approvals]\ndelete = \"supervised\"\n");
    assert_eq!(line, Some(2));
    assert!(
        msg.starts_with("policy file line 2, column 10: invalid type: string \"supervised\", expected a list of maturity levels"),
        "{msg}"
    );
    let (line, msg) = err("[min_maturity]\n\nread = 3\n");
    assert_eq!(line, Some(3));
    assert!(msg.contains("invalid type: integer `3`"), "{msg}");
    assert!(msg.contains("expected a maturity level"), "{msg}");
    let (line, msg) = err("agents = \"all\"\n");
    assert_eq!(line, Some(1));
    assert!(msg.contains("invalid type"), "{msg}");
}

#[test]
fn syntax_error_names_line() {
    let (line, msg) = err("# policy\n\n[approvals\ndelete = []\n");
    assert_eq!(line, Some(3));
    assert!(msg.starts_with("policy file line 3, column "), "{msg}");
    assert!(msg.contains("(at: [approvals)"), "{msg}");
    let (line, msg) = err("[min_maturity]\nread = = \"intern\"\n");
    assert_eq!(line, Some(2));
    assert!(msg.starts_with("policy file line 2, column "), "{msg}");
}

#[test]
fn inverted_approvals_are_rejected_at_their_line() {
    let (line, msg) = err("[approvals]\ncreate = []\ndelete = [\"intern\"]\n");
    assert_eq!(line, Some(3));
    assert!(
        msg.contains("approvals for `delete` list `intern`, but `supervised`"),
        "{msg}"
    );
    let (line, msg) = err("[[agents]]\nid = \"a\"\napprovals = { read = [\"autonomous\"] }\n");
    assert_eq!(line, Some(3));
    assert!(
        msg.contains("approvals for `read` list `autonomous`"),
        "{msg}"
    );
    // An override of the minimum alone can break the defaults' approval set; the error points
    // at the override.
    let (line, msg) = err("[[agents]]\nid = \"a\"\n\nmin_maturity = { create = \"intern\" }\n");
    assert_eq!(line, Some(4));
    assert!(
        msg.contains("approvals for `create` list `supervised`"),
        "{msg}"
    );
}

#[test]
fn agent_selector_errors_name_line() {
    let (line, msg) = err("[approvals]\ncreate = []\n\n[[agents]]\nid = \"a\"\nname = \"b\"\n");
    assert_eq!(line, Some(4));
    assert!(msg.contains("exactly one of `id` or `name`"), "{msg}");
    let (line, msg) = err("[[agents]]\nname = \"Bot\"\n\n[[agents]]\nname = \"bot\"\n");
    assert_eq!(line, Some(5));
    assert!(
        msg.contains("agent name \"bot\" has more than one"),
        "{msg}"
    );
    let (line, msg) = err("[[agents]]\nid = \"  \"\n");
    assert_eq!(line, Some(2));
    assert!(msg.contains("agent `id` is empty"), "{msg}");
}

#[test]
fn bad_root_names_line() {
    let (line, msg) = err(
        "[[agents]]\nid = \"a\"\nroots = [\n  \"1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d\",\n  \"my-page\",\n]\n",
    );
    assert_eq!(line, Some(5));
    assert!(msg.contains("root \"my-page\" is not a Notion id"), "{msg}");
}
