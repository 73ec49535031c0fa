//! Wire-format building blocks used by the generated code: the macros that give structures,
//! enums and open string sets their serde impls, and the codecs for timestamps.
//!
//! Structures are (de)serialised by [`structure_serde!`](crate::structure_serde) rather than
//! `#[derive]`: it keeps members the model does not know (so re-serialising loses nothing),
//! skips absent members, and expands to far less code than the derive would for 446 shapes.

use std::fmt;

use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Printed by `Debug` in place of members the model marks sensitive.
pub const REDACTED: &str = "** redacted **";

/// A map key, borrowed from the input where the deserialiser allows it.
pub enum Key<'de> {
    /// Borrowed from the input.
    Borrowed(&'de str),
    /// Unescaped into a new string.
    Owned(String),
}

impl Key<'_> {
    /// The text.
    pub fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }

    /// The text, owned.
    pub fn into_owned(self) -> String {
        match self {
            Key::Borrowed(s) => s.to_owned(),
            Key::Owned(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
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
        d.deserialize_str(V)
    }
}

/// How one structure member travels on the wire.
pub trait Codec<T> {
    /// Writes the member `key` when it has a value.
    fn ser<M: SerializeMap>(map: &mut M, key: &'static str, value: &T) -> Result<(), M::Error>;
    /// Reads the member's value.
    fn de<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Option<T>, A::Error>;
}

/// The member's own serde impl; JSON `null` reads as absent.
pub struct Plain;

impl<T: Serialize + DeserializeOwned> Codec<T> for Plain {
    fn ser<M: SerializeMap>(map: &mut M, key: &'static str, value: &T) -> Result<(), M::Error> {
        map.serialize_entry(key, value)
    }
    fn de<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Option<T>, A::Error> {
        map.next_value::<Option<T>>()
    }
}

/// Timestamps as awsJson1_1 sends them: epoch seconds, a JSON number with optional fraction.
pub struct Epoch;

struct EpochOut<'a>(&'a DateTime);

impl Serialize for EpochOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.subsec_nanos() == 0 {
            return s.serialize_i64(self.0.secs());
        }
        // The model's own formatter gives the shortest exact decimal; a JSON number is a
        // double on every implementation we talk to, so send it as one.
        let text = self
            .0
            .fmt(Format::EpochSeconds)
            .map_err(serde::ser::Error::custom)?;
        let value: f64 = text.parse().map_err(serde::ser::Error::custom)?;
        s.serialize_f64(value)
    }
}

struct EpochIn(DateTime);

impl<'de> Deserialize<'de> for EpochIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = EpochIn;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a timestamp in epoch seconds")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<EpochIn, E> {
                Ok(EpochIn(DateTime::from_secs(v)))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<EpochIn, E> {
                let secs = i64::try_from(v).map_err(|_| E::custom("timestamp out of range"))?;
                Ok(EpochIn(DateTime::from_secs(secs)))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<EpochIn, E> {
                epoch_from_f64(v).map(EpochIn).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// Converts epoch seconds received as a double, keeping the fraction the sender wrote: the
/// shortest decimal that round-trips the double is parsed, so `1.1` gives 100 ms exactly.
pub fn epoch_from_f64(v: f64) -> Result<DateTime, String> {
    if !v.is_finite() {
        return Err(format!("timestamp {v} is not a finite number"));
    }
    // Fast path for the common case, whole milliseconds: when `ms / 1000` reads back as `v`,
    // it is the shortest such decimal (below 1e11 s neighbouring doubles are far closer than
    // 1 ms apart, so no other decimal with at most three fraction digits does).
    if (0.0..1e11).contains(&v) {
        let ms = (v * 1000.0).round();
        if ms / 1000.0 == v {
            return Ok(DateTime::from_millis(ms as i64));
        }
    }
    with_shortest(v, |text| {
        DateTime::from_str(text, Format::EpochSeconds).map_err(|e| format!("timestamp {text}: {e}"))
    })
}

/// Calls `f` with the shortest decimal text that reads back as `v`, formatted on the stack
/// when it fits (it always does for the values ECS sends).
pub(crate) fn with_shortest<R>(v: f64, f: impl FnOnce(&str) -> R) -> R {
    use fmt::Write as _;
    struct Stack {
        buf: [u8; 48],
        len: usize,
    }
    impl fmt::Write for Stack {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let end = self.len + s.len();
            let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
            dst.copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }
    // `Display` for f64 prints the shortest round-tripping digits without an exponent.
    let v = if v == 0.0 { 0.0 } else { v };
    let mut stack = Stack {
        buf: [0; 48],
        len: 0,
    };
    if write!(stack, "{v}").is_ok() {
        if let Ok(text) = std::str::from_utf8(&stack.buf[..stack.len]) {
            return f(text);
        }
    }
    f(&v.to_string())
}

impl Codec<DateTime> for Epoch {
    fn ser<M: SerializeMap>(
        map: &mut M,
        key: &'static str,
        value: &DateTime,
    ) -> Result<(), M::Error> {
        map.serialize_entry(key, &EpochOut(value))
    }
    fn de<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Option<DateTime>, A::Error> {
        Ok(map.next_value::<Option<EpochIn>>()?.map(|t| t.0))
    }
}

/// Reads an enum or open-set value: any string.
pub fn deserialize_string_value<
    'de,
    D: Deserializer<'de>,
    T: From<String> + for<'a> From<&'a str>,
>(
    d: D,
) -> Result<T, D::Error> {
    Ok(match Key::deserialize(d)? {
        Key::Borrowed(s) => T::from(s),
        Key::Owned(s) => T::from(s),
    })
}

/// Serde impls for a generated structure. Each member names its field, its wire name and its
/// [`Codec`]; members not listed are collected into `unknown_fields`.
#[macro_export]
#[doc(hidden)]
macro_rules! structure_serde {
    ($ty:ident { $($field:ident : $wire:literal => $codec:ident),* $(,)? }) => {
        impl serde::Serialize for $ty {
            #[allow(deprecated)]
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap as _;
                let mut map = serializer.serialize_map(None)?;
                $(
                    if let Some(value) = &self.$field {
                        <$crate::wire::$codec as $crate::wire::Codec<_>>::ser(&mut map, $wire, value)?;
                    }
                )*
                for (key, value) in &self.unknown_fields {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct StructVisitor;
                impl<'de> serde::de::Visitor<'de> for StructVisitor {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("a JSON object (structure ", stringify!($ty), ")"))
                    }
                    #[allow(deprecated, unused_mut)]
                    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<$ty, A::Error> {
                        let mut out = <$ty as Default>::default();
                        while let Some(key) = map.next_key::<$crate::wire::Key<'de>>()? {
                            match key.as_str() {
                                $( $wire => out.$field = <$crate::wire::$codec as $crate::wire::Codec<_>>::de(&mut map)?, )*
                                _ => {
                                    let value: serde_json::Value = map.next_value()?;
                                    out.unknown_fields.insert(key.into_owned(), value);
                                }
                            }
                        }
                        Ok(out)
                    }
                }
                deserializer.deserialize_map(StructVisitor)
            }
        }
    };
}

/// The text of an enum value the model does not list, as it came over the wire. Opaque (in the
/// manner of smithy-rs): it is made only by parsing, and read through the enum's `as_str()`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnknownValue(#[doc(hidden)] pub(crate) String);

/// A string enum (a model enum, or an open set of values from `codegen.json`) with an opaque
/// `Unknown` catch-all that round-trips.
#[macro_export]
#[doc(hidden)]
macro_rules! string_enum {
    ($(#[$meta:meta])* $ty:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $ty {
            $($(#[$vmeta])* $variant,)*
            /// A value the model does not list, kept as received. Its text is read with
            /// `as_str()` on the enum; it cannot be written by hand, so a match on a value that
            /// a later model names cannot silently stop matching when the value gets a variant.
            Unknown($crate::wire::UnknownValue),
        }

        impl $ty {
            /// The values the model lists, in model order.
            pub const VALUES: &'static [&'static str] = &[$($value),*];

            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $($ty::$variant => $value,)*
                    $ty::Unknown(s) => s.0.as_str(),
                }
            }

            /// Whether the value is one the model lists.
            pub fn is_known(&self) -> bool {
                !matches!(self, $ty::Unknown(_))
            }
        }

        impl From<&str> for $ty {
            fn from(s: &str) -> Self {
                match s {
                    $($value => $ty::$variant,)*
                    other => $ty::Unknown($crate::wire::UnknownValue(other.to_owned())),
                }
            }
        }

        impl From<String> for $ty {
            fn from(s: String) -> Self {
                match s.as_str() {
                    $($value => $ty::$variant,)*
                    _ => $ty::Unknown($crate::wire::UnknownValue(s)),
                }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok($ty::from(s))
            }
        }

        impl PartialEq<str> for $ty {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $ty {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::wire::deserialize_string_value(d)
            }
        }
    };
}

/// One operation's error enum: a variant per exception the model lists for the operation (each
/// a [`crate::errors::ModeledError`] of the same name) and an opaque `Unhandled` case.
#[macro_export]
#[doc(hidden)]
macro_rules! operation_error {
    ($(#[$meta:meta])* $ty:ident { $($(#[$vmeta:meta])* $variant:ident => $is:ident),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $ty {
            $($(#[$vmeta])* $variant,)*
            /// A code the model does not list for this operation.
            Unhandled($crate::wire::UnknownValue),
        }

        impl $ty {
            $(
                #[doc = concat!("Whether this is `", stringify!($variant), "`.")]
                #[inline]
                pub fn $is(&self) -> bool {
                    matches!(self, $ty::$variant)
                }
            )*

            /// Whether the code is one the model does not list for this operation.
            #[inline]
            pub fn is_unhandled(&self) -> bool {
                matches!(self, $ty::Unhandled(_))
            }
        }

        impl $crate::operation::OperationError for $ty {
            fn from_code(code: &str) -> Self {
                match code {
                    $(stringify!($variant) => $ty::$variant,)*
                    other => $ty::Unhandled($crate::wire::UnknownValue(other.to_owned())),
                }
            }

            fn code(&self) -> &str {
                match self {
                    $($ty::$variant => stringify!($variant),)*
                    $ty::Unhandled(v) => v.0.as_str(),
                }
            }

            fn modeled(&self) -> Option<$crate::errors::ModeledError> {
                match self {
                    $ty::Unhandled(_) => None,
                    known => $crate::errors::ModeledError::from_code(known.code()),
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($crate::operation::OperationError::code(self))
            }
        }
    };
}
