//! What the crate's small named enums ([`crate::ActionClass`], [`crate::Maturity`]) share,
//! written once: their names (display, case-insensitive parsing, serde) and compact sets of
//! them ([`Set`], as [`crate::ClassSet`] and [`crate::MaturitySet`]).

use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, Visitor};
use serde::{Serialize, Serializer};

/// A small enum with one lowercase name per value, in declaration order.
pub trait Named: Copy + Eq + Hash + fmt::Debug + 'static {
    /// Every value, in declaration order; a value's bit in a [`Set`] is its position here.
    const ALL: &'static [Self];
    /// What one value is, with its article, for messages: `"a maturity level"`.
    const A_WHAT: &'static str;
    /// What one value is, without its article: `"maturity level"`.
    const WHAT: &'static str;
    /// What a list of them looks like, for messages: `"a list of …, e.g. [\"…\"]"`.
    const LIST_EXAMPLE: &'static str;

    /// The lowercase name, as stored and as written in policy files.
    fn as_str(self) -> &'static str;

    /// The position in [`Named::ALL`].
    fn position(self) -> u8;
}

/// A string that is not the name of any value of a [`Named`] enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}: expected one of {} (any case)", expected.join(", "))]
pub struct ParseNameError {
    what: &'static str,
    value: String,
    expected: Vec<&'static str>,
}

impl ParseNameError {
    /// The rejected input.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// What was expected: `"maturity level"`, `"action class"`.
    pub fn what(&self) -> &'static str {
        self.what
    }
}

/// The value named `s`, ASCII case-insensitively, surrounding whitespace ignored.
pub(crate) fn parse<T: Named>(s: &str) -> Result<T, ParseNameError> {
    let t = s.trim();
    T::ALL
        .iter()
        .copied()
        .find(|v| v.as_str().eq_ignore_ascii_case(t))
        .ok_or_else(|| ParseNameError {
            what: T::WHAT,
            value: s.to_owned(),
            expected: T::ALL.iter().map(|v| v.as_str()).collect(),
        })
}

/// Serialises a value as its name.
pub(crate) fn serialize<T: Named, S: Serializer>(v: T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.as_str())
}

/// Deserialises a value from its name (any case), naming the choices on an error.
pub(crate) fn deserialize<'de, T: Named, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    struct V<T>(PhantomData<T>);
    impl<T: Named> Visitor<'_> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{}: one of ", T::A_WHAT)?;
            for (i, v) in T::ALL.iter().enumerate() {
                f.write_str(if i == 0 { "" } else { ", " })?;
                f.write_str(v.as_str())?;
            }
            Ok(())
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            parse(v).map_err(E::custom)
        }
    }
    d.deserialize_str(V(PhantomData))
}

/// A set of values of a [`Named`] enum of at most eight values: one byte, `Copy`, no
/// allocation. Serialised as a list of names.
pub struct Set<T> {
    bits: u8,
    of: PhantomData<T>,
}

impl<T> Set<T> {
    /// The empty set.
    pub const EMPTY: Set<T> = Set::from_bits(0);

    /// The set whose member at position `i` is in it when bit `i` is set.
    pub(crate) const fn from_bits(bits: u8) -> Set<T> {
        Set {
            bits,
            of: PhantomData,
        }
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.bits == 0
    }
}

impl<T: Named> Set<T> {
    /// The set of the given values.
    pub fn of(values: &[T]) -> Set<T> {
        values.iter().copied().collect()
    }

    /// Whether `v` is in the set.
    pub fn contains(self, v: T) -> bool {
        self.bits & (1 << v.position()) != 0
    }

    /// Adds `v`.
    pub fn insert(&mut self, v: T) {
        self.bits |= 1 << v.position();
    }

    /// The members, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = T> {
        T::ALL.iter().copied().filter(move |v| self.contains(*v))
    }
}

impl<T> Clone for Set<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Set<T> {}

impl<T> PartialEq for Set<T> {
    fn eq(&self, other: &Self) -> bool {
        self.bits == other.bits
    }
}

impl<T> Eq for Set<T> {}

impl<T> Hash for Set<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.bits.hash(state);
    }
}

impl<T> Default for Set<T> {
    fn default() -> Self {
        Set::EMPTY
    }
}

impl<T: Named> fmt::Debug for Set<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<T: Named> FromIterator<T> for Set<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut s = Set::EMPTY;
        for v in iter {
            s.insert(v);
        }
        s
    }
}

impl<T: Named + Serialize> Serialize for Set<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de, T: Named + serde::Deserialize<'de>> serde::Deserialize<'de> for Set<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Named + serde::Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Set<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(T::LIST_EXAMPLE)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Set<T>, A::Error> {
                let mut set = Set::EMPTY;
                while let Some(item) = seq.next_element::<T>()? {
                    set.insert(item);
                }
                Ok(set)
            }
        }
        deserializer.deserialize_seq(V(PhantomData))
    }
}

/// Implements [`Named`] (position = discriminant, names from the enum's `ALL` and `as_str`),
/// `Display`, `FromStr`, `Serialize` and `Deserialize` for a fieldless enum, through the
/// generic functions above.
macro_rules! impl_named {
    ($t:ident, a: $a:literal, what: $what:literal, list: $list:literal) => {
        impl $crate::named::Named for $t {
            const ALL: &'static [$t] = &$t::ALL;
            const A_WHAT: &'static str = $a;
            const WHAT: &'static str = $what;
            const LIST_EXAMPLE: &'static str = $list;

            fn as_str(self) -> &'static str {
                $t::as_str(self)
            }

            fn position(self) -> u8 {
                self as u8
            }
        }

        impl ::std::fmt::Display for $t {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $t {
            type Err = $crate::named::ParseNameError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $crate::named::parse(s)
            }
        }

        impl ::serde::Serialize for $t {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $crate::named::serialize(*self, s)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $t {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::named::deserialize(d)
            }
        }
    };
}
pub(crate) use impl_named;
