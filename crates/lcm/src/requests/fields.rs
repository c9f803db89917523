//! Attribute types of the request bodies that carry their own constraint, so that a
//! request that deserialises is a request that is valid, and the refusal names the rule.

use std::fmt;
use std::ops::Deref;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A string of at most `MAX` characters (SOL003's String attributes, Tacker's limits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text<const MAX: usize>(String);

/// A string that is not empty (identifiers: `vnfdId`, `flavourId`, `aspectId`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identifier(String);

/// `numberOfSteps`: a positive integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Steps(u32);

impl<const MAX: usize> Deref for Text<MAX> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Deref for Identifier {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Steps {
    pub const ONE: Steps = Steps(1);

    pub fn get(self) -> u32 {
        self.0
    }
}

impl<const MAX: usize> Serialize for Text<MAX> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl Serialize for Identifier {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Accepts a string of `min..=max` characters; `expecting` names the rule in the refusal.
struct StringVisitor {
    expecting: String,
    min: usize,
    max: usize,
}

impl Visitor<'_> for StringVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expecting)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<String, E> {
        let length = value.chars().count();
        if (self.min..=self.max).contains(&length) {
            Ok(value.to_owned())
        } else {
            // The length, not the value: it may be long, and the message shows it once.
            Err(E::invalid_length(length, &self))
        }
    }
}

impl<'de, const MAX: usize> Deserialize<'de> for Text<MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_str(StringVisitor {
                expecting: format!("a string of at most {MAX} characters"),
                min: 0,
                max: MAX,
            })
            .map(Text)
    }
}

impl<'de> Deserialize<'de> for Identifier {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_str(StringVisitor {
                expecting: "a non-empty string".into(),
                min: 1,
                max: usize::MAX,
            })
            .map(Identifier)
    }
}

impl<'de> Deserialize<'de> for Steps {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StepsVisitor;
        impl Visitor<'_> for StepsVisitor {
            type Value = Steps;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer of at least 1")
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Steps, E> {
                match u32::try_from(value) {
                    Ok(steps) if steps >= 1 => Ok(Steps(steps)),
                    _ => Err(E::invalid_value(de::Unexpected::Unsigned(value), &self)),
                }
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Steps, E> {
                match u64::try_from(value) {
                    Ok(value) => self.visit_u64(value),
                    Err(_) => Err(E::invalid_value(de::Unexpected::Signed(value), &self)),
                }
            }
        }
        deserializer.deserialize_u64(StepsVisitor)
    }
}

/// For attributes that may be left out but not sent as `null`: those shown again as
/// sent (VnfInfoModificationRequest becomes changedInfo), where SOL003 types them.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}
