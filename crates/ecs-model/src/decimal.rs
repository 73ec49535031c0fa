//! [`Decimal`]: the model's `double` members, kept as exact decimals.
//!
//! The wire type is a JSON number (a double). A received double is converted through its
//! shortest round-tripping decimal text, so `33.3` becomes exactly 33.3 and arithmetic on it
//! (above all `computedDesiredCount = ceil(desiredCount * scale / 100)`) is exact. This is the
//! value the sender wrote whenever it wrote at most 15 significant digits; beyond that the
//! double itself has already rounded it, on every implementation.

use std::fmt;
use std::str::FromStr;

use serde::de::Visitor;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An exact decimal for a model `double`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Decimal(rust_decimal::Decimal);

/// A number that has no exact decimal form here (not finite, or beyond ±7.9e28).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{input} cannot be held as an exact decimal: {reason}")]
pub struct DecimalError {
    /// The text that was read.
    pub input: String,
    /// Why it is not a decimal.
    pub reason: String,
}

impl Decimal {
    /// Zero.
    pub const ZERO: Decimal = Decimal(rust_decimal::Decimal::ZERO);
    /// One.
    pub const ONE: Decimal = Decimal(rust_decimal::Decimal::ONE);
    /// One hundred (a scale of 100 percent).
    pub const ONE_HUNDRED: Decimal = Decimal(rust_decimal::Decimal::ONE_HUNDRED);

    /// Wraps an exact decimal.
    pub fn new(value: rust_decimal::Decimal) -> Self {
        Decimal(value)
    }

    /// The exact value.
    pub fn get(self) -> rust_decimal::Decimal {
        self.0
    }

    /// From a double, through its shortest round-tripping decimal text.
    pub fn from_f64(v: f64) -> Result<Self, DecimalError> {
        if !v.is_finite() {
            return Err(DecimalError {
                input: v.to_string(),
                reason: "not a finite number".into(),
            });
        }
        // Fast path for the values ECS sends (a percent such as 50.0 or 12.5): below 1e9 the
        // neighbouring doubles are closer than 1e-6 apart, so for each k <= 6 at most one
        // decimal with k fraction digits reads back as `v`, and the first k that has one gives
        // the shortest text's value. `m / 10^k` is a correctly rounded division of two exact
        // doubles, which is what parsing that decimal's text gives.
        if v.abs() < 1e9 {
            let mut scale = 1.0;
            for k in 0..=6u32 {
                let m = (v * scale).round();
                if m / scale == v {
                    // |m| < 1e15, so the conversion is exact.
                    return Ok(Decimal(rust_decimal::Decimal::new(m as i64, k).normalize()));
                }
                scale *= 10.0;
            }
        }
        crate::wire::with_shortest(v, str::parse)
    }

    /// The nearest double (what goes on the wire).
    pub fn to_f64(self) -> f64 {
        // Parsing the decimal text is correctly rounded; mantissa / 10^scale is not always.
        self.0.to_string().parse().unwrap_or(f64::NAN)
    }
}

impl FromStr for Decimal {
    type Err = DecimalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parsed = if s.contains(['e', 'E']) {
            rust_decimal::Decimal::from_scientific(s)
        } else {
            rust_decimal::Decimal::from_str_exact(s)
        };
        parsed
            .map(|d| Decimal(d.normalize()))
            .map_err(|e| DecimalError {
                input: s.to_owned(),
                reason: e.to_string(),
            })
    }
}

/// A number that converts to an exact [`Decimal`]: integers and decimals always; doubles through
/// their shortest round-tripping text (`12.5` is 12.5), unless they are not finite.
pub trait IntoDecimal {
    /// The exact decimal.
    fn into_decimal(self) -> Result<Decimal, DecimalError>;
}

macro_rules! integers_into_decimal {
    ($($t:ty),*) => {$(
        impl IntoDecimal for $t {
            fn into_decimal(self) -> Result<Decimal, DecimalError> {
                Ok(Decimal(rust_decimal::Decimal::from(self)))
            }
        }
    )*};
}

integers_into_decimal!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl IntoDecimal for f64 {
    fn into_decimal(self) -> Result<Decimal, DecimalError> {
        Decimal::from_f64(self)
    }
}

impl IntoDecimal for f32 {
    fn into_decimal(self) -> Result<Decimal, DecimalError> {
        if !self.is_finite() {
            return Err(DecimalError {
                input: self.to_string(),
                reason: "not a finite number".into(),
            });
        }
        // `Display` of a float is its shortest round-tripping text, without an exponent.
        self.to_string().parse()
    }
}

impl IntoDecimal for Decimal {
    fn into_decimal(self) -> Result<Decimal, DecimalError> {
        Ok(self)
    }
}

impl IntoDecimal for rust_decimal::Decimal {
    fn into_decimal(self) -> Result<Decimal, DecimalError> {
        Ok(Decimal(self))
    }
}

impl From<i32> for Decimal {
    fn from(v: i32) -> Self {
        Decimal(rust_decimal::Decimal::from(v))
    }
}

impl From<rust_decimal::Decimal> for Decimal {
    fn from(v: rust_decimal::Decimal) -> Self {
        Decimal(v)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.to_f64())
    }
}

/// Integers up to 2^53 are exact doubles.
const MAX_EXACT_INTEGER: u64 = 1 << 53;

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Decimal;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            // An integer on the wire is still a double: beyond 2^53 it is the nearest double,
            // as every implementation reads it, so that re-encoding gives the same value.
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Decimal, E> {
                if v.unsigned_abs() <= MAX_EXACT_INTEGER {
                    Ok(Decimal(rust_decimal::Decimal::from(v)))
                } else {
                    Decimal::from_f64(v as f64).map_err(E::custom)
                }
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Decimal, E> {
                if v <= MAX_EXACT_INTEGER {
                    Ok(Decimal(rust_decimal::Decimal::from(v)))
                } else {
                    Decimal::from_f64(v as f64).map_err(E::custom)
                }
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Decimal, E> {
                Decimal::from_f64(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_keep_the_decimal_the_sender_wrote() {
        let d: Decimal = serde_json::from_str("33.3").unwrap();
        assert_eq!(d.to_string(), "33.3");
        let d: Decimal = serde_json::from_str("0.1").unwrap();
        assert_eq!(
            d.get() * rust_decimal::Decimal::from(3),
            "0.3".parse().unwrap()
        );
        let d: Decimal = serde_json::from_str("100").unwrap();
        assert_eq!(d, Decimal::ONE_HUNDRED);
    }

    #[test]
    fn serialises_as_a_json_double() {
        let d: Decimal = "50".parse().unwrap();
        assert_eq!(serde_json::to_string(&d).unwrap(), "50.0");
        let d: Decimal = "12.5".parse().unwrap();
        assert_eq!(serde_json::to_string(&d).unwrap(), "12.5");
    }

    #[test]
    fn integers_beyond_2_pow_53_are_read_as_the_double_they_are() {
        let d: Decimal = serde_json::from_str("19616912849248925").unwrap();
        assert_eq!(d.to_string(), "19616912849248924");
        let again: Decimal = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert_eq!(again, d);
        let d: Decimal = serde_json::from_str("9007199254740993").unwrap();
        assert_eq!(d.to_string(), "9007199254740992");
        let d: Decimal = serde_json::from_str("9007199254740992").unwrap();
        assert_eq!(d.to_string(), "9007199254740992");
    }

    #[test]
    fn out_of_range_numbers_are_errors_not_panics() {
        assert!(serde_json::from_str::<Decimal>("1e300").is_err());
        assert!(Decimal::from_f64(f64::NAN).is_err());
        assert!("abc".parse::<Decimal>().is_err());
    }
}
