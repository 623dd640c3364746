//! Single-pass decoding of Notion objects: known fields, an optional `{type, <type>: …}`
//! union, and every other key kept verbatim in `extra`.
//!
//! `#[serde(flatten)]` makes serde buffer every key it does not know into its private
//! `Content` tree and decode each flattened field from that buffer afterwards; a union then
//! built its content as a `serde_json::Value` and decoded the model from that value. For a
//! block, its rich text and its parent, that was three passes and an allocation per key.
//! The `de_object!` macro below generates, for each model, a visitor that reads the object
//! once: a known key straight into its field, the content of the union straight into its
//! model (it knows the model from `type`, which Notion sends before the content), and only an
//! unknown key into a `Value` in `extra`. Keys are borrowed from the input when they can be.
//!
//! Compatibility with the flattened derive, which the fixture round trip tests:
//!
//! - a known key always goes to its field (a duplicate is an error, as with the derive);
//! - `type` and the key it names go to the union; the content before `type` (other key
//!   orders) is kept as a `Value` and decoded when `type` is known, through
//!   [`NotionUnion::from_parts`]; without `type`, the first key naming a known variant decides
//!   (request shapes), as before;
//! - a decode error inside a union's content now carries its whole path to
//!   `serde_path_to_error` (`results[1].to_do.checked`), which the client's `decode` names.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, Visitor};
use serde_json::{Map, Value};

use super::union::{NotionUnion, inferred_type};

/// A map key or short string, borrowed from the input when it can be.
#[doc(hidden)]
pub enum Key<'de> {
    /// Borrowed from the input.
    Borrowed(&'de str),
    /// Unescaped or handed over by the deserializer.
    Owned(String),
}

impl Key<'_> {
    /// The text.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Borrowed(s) => s,
            Self::Owned(s) => s,
        }
    }

    /// The text, owned.
    pub fn into_string(self) -> String {
        match self {
            Self::Borrowed(s) => s.to_owned(),
            Self::Owned(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Decodes the content of the union member named `type_name` from the input.
#[doc(hidden)]
pub struct ContentSeed<'a, U>(&'a str, PhantomData<fn() -> U>);

impl<'a, U> ContentSeed<'a, U> {
    /// The seed for `type_name`.
    pub fn new(type_name: &'a str) -> Self {
        Self(type_name, PhantomData)
    }
}

impl<'de, U: NotionUnion> DeserializeSeed<'de> for ContentSeed<'_, U> {
    type Value = U;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<U, D::Error> {
        U::deserialize_content(self.0, deserializer)
    }
}

/// The union once the object is read: decoded already (content after `type`), or from the
/// content kept in `extra` (content before `type`), or inferred from the first key naming a
/// known variant (no `type`), or `None`.
#[doc(hidden)]
pub fn finish_union<U: NotionUnion, E: serde::de::Error>(
    kind: Option<U>,
    type_name: Option<Key<'_>>,
    extra: &mut Map<String, Value>,
) -> Result<Option<U>, E> {
    if kind.is_some() {
        return Ok(kind);
    }
    let type_name = match type_name {
        Some(t) => t.into_string(),
        None => match inferred_type::<U>(extra) {
            Some(t) => t.to_owned(),
            None => return Ok(None),
        },
    };
    let content = extra.shift_remove(&type_name);
    U::from_parts(type_name, content)
        .map(Some)
        .map_err(E::custom)
}

/// A duplicated known key.
#[doc(hidden)]
pub fn duplicate<E: serde::de::Error>(field: &'static str) -> E {
    E::duplicate_field(field)
}

/// Implements `Deserialize` for a model in one pass (see the module documentation).
///
/// ```ignore
/// de_object!(TextBlock { rich_text, color, icon, children });          // + `extra: Map`
/// de_object!(Link { url: required });                                    // required field
/// de_object!(Block { id: required, parent } kind: required BlockKind); // + `extra: Extra<_>`
/// de_object!(User { id: required, name } kind: optional UserKind);
/// ```
///
/// Fields without `: required` take their type's default when absent (the models'
/// `#[serde(default)]`); the struct's unknown keys go to its field `extra`.
macro_rules! de_object {
    (@take $map:ident $f:ident) => {
        $f.unwrap_or_default()
    };
    (@take $map:ident $f:ident : required) => {
        match $f {
            Some(v) => v,
            None => return Err(serde::de::Error::missing_field(stringify!($f))),
        }
    };
    (@union $k:ident required) => {
        match $k {
            Some(k) => k,
            None => return Err(serde::de::Error::missing_field("type")),
        }
    };
    (@union $k:ident optional) => {
        $k
    };
    (@visitor $name:ident) => {
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct ObjectVisitor;
                impl<'de> serde::de::Visitor<'de> for ObjectVisitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("struct ", stringify!($name)))
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        map: A,
                    ) -> Result<$name, A::Error> {
                        $name::de_map(map)
                    }
                }
                deserializer.deserialize_map(ObjectVisitor)
            }
        }
    };
    ($name:ident { $($field:ident $(: $req:ident)?),* $(,)? }) => {
        de_object!(@impl $name { $($field $(: $req)?),* } []);
    };
    ($name:ident { $($field:ident $(: $req:ident)?),* $(,)? } $kfield:ident : $mode:ident $union:ty) => {
        de_object!(@impl $name { $($field $(: $req)?),* } [$kfield $mode $union]);
    };
    (@impl $name:ident { $($field:ident $(: $req:ident)?),* } [$($kfield:ident $mode:ident $union:ty)?]) => {
        impl $name {
            /// Decodes the (rest of the) keys of an object (see `models::object`).
            #[allow(unused_mut)]
            pub(crate) fn de_map<'de, A: serde::de::MapAccess<'de>>(
                mut map: A,
            ) -> Result<Self, A::Error> {
                $(let mut $field = None;)*
                let mut extra = serde_json::Map::new();
                $(
                    let mut type_name: Option<$crate::models::object::Key<'de>> = None;
                    let mut kind: Option<$union> = None;
                )?
                while let Some(key) = map.next_key::<$crate::models::object::Key<'de>>()? {
                    match key.as_str() {
                        $(stringify!($field) => {
                            if $field.is_some() {
                                return Err($crate::models::object::duplicate(stringify!($field)));
                            }
                            $field = Some(map.next_value()?);
                        })*
                        $(
                            "type" => {
                                if type_name.is_some() {
                                    return Err($crate::models::object::duplicate("type"));
                                }
                                type_name = Some(map.next_value()?);
                            }
                            k if kind.is_none()
                                && type_name.as_ref().is_some_and(|t| t.as_str() == k) =>
                            {
                                let t = type_name.as_ref().map_or("", |t| t.as_str());
                                kind = Some(map.next_value_seed(
                                    $crate::models::object::ContentSeed::<$union>::new(t),
                                )?);
                            }
                        )?
                        _ => {
                            let value: serde_json::Value = map.next_value()?;
                            extra.insert(key.into_string(), value);
                        }
                    }
                }
                $(
                    let kind: Option<$union> =
                        $crate::models::object::finish_union(kind, type_name, &mut extra)?;
                )?
                Ok($name {
                    $($field: de_object!(@take map $field $(: $req)?),)*
                    $($kfield: de_object!(@union kind $mode),)?
                    extra: extra.into(),
                })
            }
        }
        de_object!(@visitor $name);
    };
}

/// Whether a model field is left out of the serialized object: absent optional fields are
/// (`None`, [`Maybe::Absent`](super::Maybe)), plain fields never are.
#[doc(hidden)]
pub trait Omit {
    /// Whether to leave the field out.
    fn omit(&self) -> bool {
        false
    }
}

impl<T> Omit for Option<T> {
    fn omit(&self) -> bool {
        self.is_none()
    }
}

impl<T> Omit for super::Maybe<T> {
    fn omit(&self) -> bool {
        self.is_absent()
    }
}

impl<T> Omit for Vec<T> {}
impl Omit for String {}
impl Omit for bool {}

/// Declares a model: the struct (with `Debug, Clone, PartialEq, Serialize`, `#[non_exhaustive]`,
/// an `extra` field for every other key) and its one-pass `Deserialize` (`de_object!`).
///
/// Every field is serialized unless [`Omit`] says it is absent (`None`, `Maybe::Absent`), and
/// decoded to its default when absent unless marked `=> required`. A union is marked by
/// `@required` or `@optional` before its docs; the fields after it are serialized after it.
///
/// ```ignore
/// notion_object! {
///     /// Docs.
///     #[derive(Default)]
///     pub struct Block {
///         /// The ID.
///         pub id: BlockId => required,
///         @required
///         /// The type and content.
///         pub kind: BlockKind,
///     }
/// }
/// ```
macro_rules! notion_object {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($(#[doc = $doc:literal])* pub $field:ident : $ty:ty $(=> $req:ident)?),* $(,)?
        }
    ) => {
        notion_object!(@impl [$(#[$meta])*] $name [$($(#[doc = $doc])* $field: $ty $(=> $req)?;)*] [] []);
    };
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($(#[doc = $doc:literal])* pub $field:ident : $ty:ty $(=> $req:ident)?,)*
            @ $mode:ident $(#[doc = $kdoc:literal])* pub $kfield:ident : $union:ty
            $(, $(#[doc = $adoc:literal])* pub $afield:ident : $aty:ty $(=> $areq:ident)?)* $(,)?
        }
    ) => {
        notion_object!(
            @impl [$(#[$meta])*] $name
            [$($(#[doc = $doc])* $field: $ty $(=> $req)?;)*]
            [$mode [$(#[doc = $kdoc])*] $kfield $union]
            [$($(#[doc = $adoc])* $afield: $aty $(=> $areq)?;)*]
        );
    };
    (
        @impl [$(#[$meta:meta])*] $name:ident
        [$($(#[doc = $doc:literal])* $field:ident : $ty:ty $(=> $req:ident)?;)*]
        [$($mode:ident [$(#[doc = $kdoc:literal])*] $kfield:ident $union:ty)?]
        [$($(#[doc = $adoc:literal])* $afield:ident : $aty:ty $(=> $areq:ident)?;)*]
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize)]
        #[non_exhaustive]
        pub struct $name {
            $(
                $(#[doc = $doc])*
                #[serde(skip_serializing_if = "crate::models::object::Omit::omit")]
                pub $field: $ty,
            )*
            $(
                $(#[doc = $kdoc])*
                #[serde(flatten)]
                pub $kfield: notion_object!(@union $mode $union),
            )?
            $(
                $(#[doc = $adoc])*
                #[serde(skip_serializing_if = "crate::models::object::Omit::omit")]
                pub $afield: $aty,
            )*
            /// Every other field, kept verbatim.
            #[serde(flatten)]
            pub extra: notion_object!(@extra $($union)?),
        }

        de_object!($name { $($field $(: $req)?,)* $($afield $(: $areq)?,)* } $($kfield : $mode $union)?);
    };
    (@union required $union:ty) => { $union };
    (@union optional $union:ty) => { Option<$union> };
    (@extra) => { serde_json::Map<String, serde_json::Value> };
    (@extra $union:ty) => { $crate::models::Extra<$union> };
}
