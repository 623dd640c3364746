//! Agent maturity levels (`student < intern < supervised < autonomous`) and small sets of them.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::error::ParseMaturityError;

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

impl fmt::Display for Maturity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Maturity {
    type Err = ParseMaturityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Maturity::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| ParseMaturityError::new(s))
    }
}

impl Serialize for Maturity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Maturity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Maturity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a maturity level: one of student, intern, supervised, autonomous")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Maturity, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// A set of maturity levels (a 4-bit set; `Copy`, no allocation).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MaturitySet(u8);

impl MaturitySet {
    /// The empty set.
    pub const EMPTY: MaturitySet = MaturitySet(0);

    /// Builds a set from a slice of levels.
    pub const fn of(levels: &[Maturity]) -> MaturitySet {
        let mut bits = 0u8;
        let mut i = 0;
        while i < levels.len() {
            bits |= 1 << levels[i] as u8;
            i += 1;
        }
        MaturitySet(bits)
    }

    /// Whether `m` is in the set.
    pub const fn contains(self, m: Maturity) -> bool {
        self.0 & (1 << m as u8) != 0
    }

    /// Adds `m`.
    pub fn insert(&mut self, m: Maturity) {
        self.0 |= 1 << m as u8;
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The members, lowest first.
    pub fn iter(self) -> impl Iterator<Item = Maturity> {
        Maturity::ALL.into_iter().filter(move |m| self.contains(*m))
    }
}

impl fmt::Debug for MaturitySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl FromIterator<Maturity> for MaturitySet {
    fn from_iter<I: IntoIterator<Item = Maturity>>(iter: I) -> Self {
        let mut s = MaturitySet::EMPTY;
        for m in iter {
            s.insert(m);
        }
        s
    }
}

impl Serialize for MaturitySet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for MaturitySet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaturitySet;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of maturity levels, e.g. [\"supervised\"]")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<MaturitySet, A::Error> {
                let mut set = MaturitySet::EMPTY;
                while let Some(item) = seq.next_element::<Maturity>()? {
                    set.insert(item);
                }
                Ok(set)
            }
        }
        deserializer.deserialize_seq(V)
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
