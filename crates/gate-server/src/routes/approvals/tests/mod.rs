//! The approvals routes: their parsing helpers, and (in `decide` and `notify`) the routes on
//! the running server.

mod decide;
mod notify;

use super::*;

#[test]
fn a_decision_body_is_optional_and_names_a_bad_field() {
    for empty in [&b""[..], b"  ", b"null", b" null\n"] {
        assert_eq!(decision_body(empty).map(|b| b.note).ok(), Some(None));
    }
    let body = decision_body(br#"{"note": "why"}"#).map(|b| b.note).ok();
    assert_eq!(body, Some(Some("why".to_owned())));
    assert!(decision_body(br#"{"notes": "x"}"#).is_err());
    assert!(decision_body(br#"{"note": 5}"#).is_err());
}

#[test]
fn waits_are_seconds_from_zero_to_sixty() {
    let ok = |v: Value| parse_wait(Some(&v), "wait").ok();
    assert_eq!(parse_wait(None, "wait").ok(), Some(Duration::ZERO));
    assert_eq!(ok(Value::from(60)), Some(Duration::from_secs(60)));
    assert_eq!(ok(Value::from("2.5")), Some(Duration::from_millis(2500)));
    for bad in [
        Value::from(61),
        Value::from(-1),
        Value::from("soon"),
        Value::Bool(true),
    ] {
        let err = parse_wait(Some(&bad), "params.wait").err();
        assert_eq!(
            err.map(|e| e.details["field"].clone()),
            Some(Value::from("params.wait")),
            "{bad}"
        );
    }
}
