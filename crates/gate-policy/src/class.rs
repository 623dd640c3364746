//! Action classes (`read`, `create`, `update`, `delete`, `schema`) and small sets of them.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::error::ParseActionClassError;

/// What kind of effect an operation has; the unit the policy grants or refuses.
///
/// Deliberately *not* `#[non_exhaustive]`: surfaces map classes to things like MCP
/// "read-only"/"destructive" hints and must decide explicitly for every class, so a new class
/// must break their matches at compile time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ActionClass {
    /// Reads: search, retrieve, query, list, get markdown, list comments, users.
    Read = 0,
    /// Adds content: create page, append blocks, create comment, insert markdown, upload files.
    Create = 1,
    /// Changes existing content: page properties/icon/cover, block update, move, markdown edits.
    Update = 2,
    /// Removes content: trash or delete, replace a whole body, `allow_deleting_content`,
    /// `erase_content`; also every unknown operation (fail closed).
    Delete = 3,
    /// Changes structure: create/update databases, data sources and views.
    Schema = 4,
}

impl ActionClass {
    /// Every class, in declaration order.
    pub const ALL: [ActionClass; 5] = [
        ActionClass::Read,
        ActionClass::Create,
        ActionClass::Update,
        ActionClass::Delete,
        ActionClass::Schema,
    ];

    /// The lowercase name, as written in policy files.
    pub const fn as_str(self) -> &'static str {
        match self {
            ActionClass::Read => "read",
            ActionClass::Create => "create",
            ActionClass::Update => "update",
            ActionClass::Delete => "delete",
            ActionClass::Schema => "schema",
        }
    }

    /// Position in [`ActionClass::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// How much harm the class can do, used when one request carries several effects (the most
    /// severe wins): read 0, create 1, update 2, schema 3, delete 4.
    pub const fn severity(self) -> u8 {
        match self {
            ActionClass::Read => 0,
            ActionClass::Create => 1,
            ActionClass::Update => 2,
            ActionClass::Schema => 3,
            ActionClass::Delete => 4,
        }
    }

    /// The more severe of two classes (see [`ActionClass::severity`]).
    pub const fn max_severity(self, other: ActionClass) -> ActionClass {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }

    /// `true` only for [`ActionClass::Read`] (an MCP "read-only" hint).
    pub const fn is_read_only(self) -> bool {
        matches!(self, ActionClass::Read)
    }

    /// `true` for classes that can destroy data: delete and schema (an MCP "destructive" hint).
    pub const fn is_destructive(self) -> bool {
        matches!(self, ActionClass::Delete | ActionClass::Schema)
    }
}

impl fmt::Display for ActionClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ActionClass {
    type Err = ParseActionClassError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        ActionClass::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| ParseActionClassError::new(s))
    }
}

impl Serialize for ActionClass {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ActionClass {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ActionClass;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an action class: one of read, create, update, delete, schema")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ActionClass, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// A set of action classes (a 5-bit set; `Copy`, no allocation).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ClassSet(u8);

impl ClassSet {
    /// The empty set.
    pub const EMPTY: ClassSet = ClassSet(0);
    /// Every class.
    pub const ALL: ClassSet = ClassSet(0b1_1111);

    /// Builds a set from a slice of classes.
    pub const fn of(classes: &[ActionClass]) -> ClassSet {
        let mut bits = 0u8;
        let mut i = 0;
        while i < classes.len() {
            bits |= 1 << classes[i] as u8;
            i += 1;
        }
        ClassSet(bits)
    }

    /// Whether `c` is in the set.
    pub const fn contains(self, c: ActionClass) -> bool {
        self.0 & (1 << c as u8) != 0
    }

    /// Adds `c`.
    pub fn insert(&mut self, c: ActionClass) {
        self.0 |= 1 << c as u8;
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The members, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = ActionClass> {
        ActionClass::ALL
            .into_iter()
            .filter(move |c| self.contains(*c))
    }
}

impl fmt::Debug for ClassSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl FromIterator<ActionClass> for ClassSet {
    fn from_iter<I: IntoIterator<Item = ActionClass>>(iter: I) -> Self {
        let mut s = ClassSet::EMPTY;
        for c in iter {
            s.insert(c);
        }
        s
    }
}

impl Serialize for ClassSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for ClassSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ClassSet;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of action classes, e.g. [\"read\", \"create\"]")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<ClassSet, A::Error> {
                let mut set = ClassSet::EMPTY;
                while let Some(item) = seq.next_element::<ActionClass>()? {
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
    fn parse_and_display() {
        for c in ActionClass::ALL {
            assert_eq!(c.as_str().parse::<ActionClass>().unwrap(), c);
            assert_eq!(c.as_str().to_uppercase().parse::<ActionClass>().unwrap(), c);
            assert_eq!(c.to_string(), c.as_str());
        }
        let e = "write".parse::<ActionClass>().unwrap_err().to_string();
        assert!(e.contains("read, create, update, delete, schema"), "{e}");
    }

    #[test]
    fn severity_picks_delete_over_everything() {
        for c in ActionClass::ALL {
            assert_eq!(c.max_severity(ActionClass::Delete), ActionClass::Delete);
            assert_eq!(ActionClass::Read.max_severity(c), c);
        }
    }

    #[test]
    fn class_set_basics() {
        let s = ClassSet::of(&[ActionClass::Read, ActionClass::Schema]);
        assert!(s.contains(ActionClass::Read) && s.contains(ActionClass::Schema));
        assert!(!s.contains(ActionClass::Delete));
        assert_eq!(ClassSet::ALL.iter().count(), 5);
        assert!(ClassSet::EMPTY.is_empty());
    }
}
