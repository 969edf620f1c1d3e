//! A parsed YAML document, kept in its written order, that the typed configuration is
//! then deserialized from.
//!
//! Parsing into this first and typing second gives one place for `${VAR}` rewriting and
//! for trying a key one level deeper (the "belongs under `workload:`" hint), and keeps
//! typing strict: serde-saphyr reading a struct directly would accept `name: 123` as the
//! string "123", which serde_yaml refused and our scenarios' docs promise to refuse.
//! Mappings are a `Vec` of pairs, not a sorted map: order is what the author wrote (an
//! `IndexMap` field such as `mix:` or `headers:` keeps it).

use std::fmt;

use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::forward_to_deserialize_any;

/// One YAML node.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`, `~` or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A non-negative integer.
    U64(u64),
    /// A negative integer.
    I64(i64),
    /// A floating-point number.
    F64(f64),
    /// Any other scalar.
    String(String),
    /// A list.
    Seq(Vec<Value>),
    /// A mapping, in written order.
    Map(Vec<(Value, Value)>),
}

impl Value {
    /// The key as the field path names it (`headers.x-api-key`, `codes.429`).
    pub fn key_text(&self) -> String {
        match self {
            Value::String(s) => s.clone(),
            Value::Null => "~".into(),
            Value::Bool(b) => b.to_string(),
            Value::U64(n) => n.to_string(),
            Value::I64(n) => n.to_string(),
            Value::F64(f) => f.to_string(),
            Value::Seq(_) => "[…]".into(),
            Value::Map(_) => "{…}".into(),
        }
    }

    /// The entries of a mapping.
    pub fn as_map_mut(&mut self) -> Option<&mut Vec<(Value, Value)>> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The node at `path` (`phases[0].workload`), if the path names one.
    pub fn at_mut(&mut self, path: &str) -> Option<&mut Value> {
        let mut v = self;
        for seg in segments(path)? {
            v = match (v, seg) {
                (Value::Map(m), Seg::Key(k)) => {
                    &mut m.iter_mut().find(|(key, _)| key.key_text() == k)?.1
                }
                (Value::Seq(s), Seg::Index(i)) => s.get_mut(i)?,
                _ => return None,
            };
        }
        Some(v)
    }
}

enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// `a.b[2].c` as keys and indices; `None` when it does not read as one.
fn segments(path: &str) -> Option<Vec<Seg<'_>>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Seg::Key(key));
        }
        while let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            out.push(Seg::Index(r[..end].parse().ok()?));
            rest = &r[end + 1..];
        }
        if !rest.is_empty() {
            return None;
        }
    }
    Some(out)
}

impl<'de> de::Deserialize<'de> for Value {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(if v >= 0 {
            Value::U64(v as u64)
        } else {
            Value::I64(v)
        })
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::U64(v))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        if let Ok(n) = u64::try_from(v) {
            Ok(Value::U64(n))
        } else if let Ok(n) = i64::try_from(v) {
            Ok(Value::I64(n))
        } else {
            Err(E::custom(format!(
                "expected a number that fits in 64 bits, found {v}"
            )))
        }
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        u64::try_from(v)
            .map(Value::U64)
            .map_err(|_| E::custom(format!("expected a number that fits in 64 bits, found {v}")))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::F64(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        de::Deserialize::deserialize(d)
    }
    fn visit_newtype_struct<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        de::Deserialize::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Seq(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some((k, v)) = map.next_entry()? {
            out.push((k, v));
        }
        Ok(Value::Map(out))
    }
}

/// The error of typing a [`Value`]: serde's own messages (`invalid type: …, expected …`).
pub type TypeError = de::value::Error;

impl<'de> IntoDeserializer<'de, TypeError> for Value {
    type Deserializer = Value;
    fn into_deserializer(self) -> Value {
        self
    }
}

impl<'de> de::Deserializer<'de> for Value {
    type Error = TypeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypeError> {
        match self {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::U64(n) => visitor.visit_u64(n),
            Value::I64(n) => visitor.visit_i64(n),
            Value::F64(f) => visitor.visit_f64(f),
            Value::String(s) => visitor.visit_string(s),
            Value::Seq(items) => {
                let mut seq = SeqDeserializer::new(items.into_iter());
                let v = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(v)
            }
            Value::Map(entries) => {
                let mut map = MapDeserializer::new(entries.into_iter());
                let v = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(v)
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypeError> {
        match self {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, TypeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TypeError> {
        match self {
            // `kind: period`: a unit variant by name.
            Value::String(s) => visitor.visit_enum(s.into_deserializer()),
            // `{period: {...}}`: a variant with its content.
            Value::Map(entries) if entries.len() == 1 => visitor.visit_enum(
                de::value::MapAccessDeserializer::new(MapDeserializer::new(entries.into_iter())),
            ),
            other => other.deserialize_any(visitor),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}
