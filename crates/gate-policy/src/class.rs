//! Action classes (`read`, `create`, `update`, `delete`, `schema`) and small sets of them.

use crate::named::{self, Set};

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

named::impl_named!(ActionClass, a: "an action class", what: "action class", list: "a list of action classes, e.g. [\"read\", \"create\"]");

/// A set of action classes (one byte; `Copy`, no allocation).
pub type ClassSet = Set<ActionClass>;

impl Set<ActionClass> {
    /// Every class.
    pub const ALL: ClassSet = Set::from_bits(0b1_1111);
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
