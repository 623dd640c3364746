//! Agent maturity levels (`student < intern < supervised < autonomous`) and small sets of them.

use crate::named::{self, Set};

/// How far an agent is trusted, lowest to highest.
///
/// Ordered: `Student < Intern < Supervised < Autonomous`. Parsed case-insensitively and with
/// surrounding whitespace ignored (`"Intern"`, `" INTERN "` and `"intern"` are all
/// [`Maturity::Intern`]); always displayed and serialised lowercase, the representation the
/// store uses.
///
/// Deliberately *not* `#[non_exhaustive]`: code that maps maturities to rights must match every
/// level explicitly, and adding a level must break those matches at compile time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Maturity {
    /// New agent; no Notion access under the default policy.
    Student = 0,
    /// May read.
    Intern = 1,
    /// May create and update (with approval under the default policy).
    Supervised = 2,
    /// May do everything, including delete and schema changes.
    Autonomous = 3,
}

impl Maturity {
    /// Every level, lowest first.
    pub const ALL: [Maturity; 4] = [
        Maturity::Student,
        Maturity::Intern,
        Maturity::Supervised,
        Maturity::Autonomous,
    ];

    /// The lowercase name (`"student"`, …), as stored and as written in policy files.
    pub const fn as_str(self) -> &'static str {
        match self {
            Maturity::Student => "student",
            Maturity::Intern => "intern",
            Maturity::Supervised => "supervised",
            Maturity::Autonomous => "autonomous",
        }
    }

    /// Position in [`Maturity::ALL`] (0 for student … 3 for autonomous).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The next higher level, if any.
    pub const fn next(self) -> Option<Maturity> {
        match self {
            Maturity::Student => Some(Maturity::Intern),
            Maturity::Intern => Some(Maturity::Supervised),
            Maturity::Supervised => Some(Maturity::Autonomous),
            Maturity::Autonomous => None,
        }
    }
}

named::impl_named!(Maturity, a: "a maturity level", what: "maturity level", list: "a list of maturity levels, e.g. [\"supervised\"]");

/// A set of maturity levels (one byte; `Copy`, no allocation).
pub type MaturitySet = Set<Maturity>;

impl Set<Maturity> {
    /// The set of one level (usable in constants).
    pub const fn only(m: Maturity) -> MaturitySet {
        Set::from_bits(1 << m as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_any_case_and_whitespace() {
        for (s, m) in [
            ("student", Maturity::Student),
            ("INTERN", Maturity::Intern),
            ("  Supervised\n", Maturity::Supervised),
            ("AutoNomous", Maturity::Autonomous),
        ] {
            assert_eq!(s.parse::<Maturity>().unwrap(), m);
        }
    }

    #[test]
    fn rejects_unknown_naming_accepted_values() {
        let e = "paused".parse::<Maturity>().unwrap_err().to_string();
        assert!(e.contains("\"paused\""), "{e}");
        assert!(e.contains("student, intern, supervised, autonomous"), "{e}");
        assert!("".parse::<Maturity>().is_err());
    }

    #[test]
    fn ordered_lowest_first() {
        assert!(Maturity::Student < Maturity::Intern);
        assert!(Maturity::Intern < Maturity::Supervised);
        assert!(Maturity::Supervised < Maturity::Autonomous);
        assert_eq!(Maturity::Autonomous.next(), None);
    }

    #[test]
    fn serde_round_trip_lowercase() {
        let v = serde_json::to_value(Maturity::Supervised).unwrap();
        assert_eq!(v, serde_json::json!("supervised"));
        let m: Maturity = serde_json::from_value(serde_json::json!("SUPERVISED")).unwrap();
        assert_eq!(m, Maturity::Supervised);
        let s: MaturitySet =
            serde_json::from_value(serde_json::json!(["Intern", "student"])).unwrap();
        assert_eq!(s, MaturitySet::of(&[Maturity::Student, Maturity::Intern]));
        assert_eq!(
            serde_json::to_value(s).unwrap(),
            serde_json::json!(["student", "intern"])
        );
    }
}
