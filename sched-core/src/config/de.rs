//! A `serde::Deserializer` over a parsed `serde_json::Value` that remembers where it is, so a
//! decoding error (unknown field, wrong type, missing field) names the field path, e.g.
//! `profiles[0].plugins.score.enabled[1].wieght: unknown field ...`.
//!
//! YAML and JSON are both first parsed into a `Value` (YAML through `serde_saphyr`), then the
//! typed DTOs are read from it through [`from_value`].

use std::fmt;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Visitor};
use serde_json::Value;

/// A decoding error and the path of the field it is about (`None` for the document root).
#[derive(Debug)]
pub(crate) struct DeError {
    pub(crate) path: Option<String>,
    pub(crate) message: String,
}

impl DeError {
    fn at(mut self, path: &str) -> Self {
        if self.path.is_none() {
            self.path = Some(path.to_string());
        }
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) if !p.is_empty() => write!(f, "{p}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            path: None,
            message: msg.to_string(),
        }
    }
}

/// Deserializes `T` from `value`; errors carry paths relative to `base` (e.g. `profiles[0].pluginConfig[1].args`).
pub(crate) fn from_value<T: DeserializeOwned>(value: &Value, base: &str) -> Result<T, DeError> {
    T::deserialize(PathDe {
        value,
        path: base.to_string(),
    })
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

struct PathDe<'de> {
    value: &'de Value,
    path: String,
}

impl<'de> de::Deserializer<'de> for PathDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let path = self.path;
        let result = match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => visitor.visit_seq(SeqAcc {
                items: items.iter().enumerate(),
                path: path.clone(),
            }),
            Value::Object(map) => visitor.visit_map(MapAcc {
                entries: map.iter(),
                pending: None,
                path: path.clone(),
            }),
        };
        result.map_err(|e| e.at(&path))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.value.is_null() {
            visitor
                .visit_none::<DeError>()
                .map_err(|e| e.at(&self.path))
        } else {
            let path = self.path.clone();
            visitor.visit_some(self).map_err(|e| e.at(&path))
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let path = self.path.clone();
        visitor.visit_newtype_struct(self).map_err(|e| e.at(&path))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.value {
            Value::String(s) => {
                let de: BorrowedStrDeserializer<'de, DeError> =
                    BorrowedStrDeserializer::new(s.as_str());
                visitor.visit_enum(de).map_err(|e| e.at(&self.path))
            }
            _ => Err(DeError {
                path: Some(self.path),
                message: "expected a string".to_string(),
            }),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

struct SeqAcc<'de> {
    items: std::iter::Enumerate<std::slice::Iter<'de, Value>>,
    path: String,
}

impl<'de> de::SeqAccess<'de> for SeqAcc<'de> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            Some((i, value)) => {
                let path = format!("{}[{i}]", self.path);
                seed.deserialize(PathDe {
                    value,
                    path: path.clone(),
                })
                .map(Some)
                .map_err(|e| e.at(&path))
            }
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapAcc<'de> {
    entries: serde_json::map::Iter<'de>,
    pending: Option<(&'de str, &'de Value)>,
    path: String,
}

impl<'de> de::MapAccess<'de> for MapAcc<'de> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.entries.next() {
            Some((key, value)) => {
                self.pending = Some((key.as_str(), value));
                let de: BorrowedStrDeserializer<'de, DeError> =
                    BorrowedStrDeserializer::new(key.as_str());
                // An unknown-field error is reported at the offending key's own path.
                seed.deserialize(de)
                    .map(Some)
                    .map_err(|e| e.at(&child(&self.path, key)))
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let (key, value) = self.pending.take().ok_or_else(|| DeError {
            path: Some(self.path.clone()),
            message: "value without a key".to_string(),
        })?;
        let path = child(&self.path, key);
        seed.deserialize(PathDe {
            value,
            path: path.clone(),
        })
        .map_err(|e| e.at(&path))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}
