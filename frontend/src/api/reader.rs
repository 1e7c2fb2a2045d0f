//! The reader the console decodes the server's answers with: a `serde_json::Value` read the
//! way the API writes it.
//!
//! serde_json's own reader of a `Value` also takes a struct written as an array (its fields in
//! order), so every answer type's decoder was compiled a second time for that form, which the
//! API never writes. This reader takes a struct only from an object; everything else is read
//! as serde_json reads it.

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    Unexpected, VariantAccess, Visitor,
};
use serde_json::{Error, Value};

/// A decoded answer, read as the API writes it.
pub struct Reader(pub Value);

impl<'de> Deserializer<'de> for Reader {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Number(n) => n.deserialize_any(visitor),
            Value::String(s) => visitor.visit_string(s),
            Value::Array(items) => visit_array(items, visitor),
            Value::Object(map) => visitor.visit_map(Object {
                entries: map.into_iter(),
                value: None,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(Reader(other)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(Object {
                entries: map.into_iter(),
                value: None,
            }),
            other => Err(de::Error::invalid_type(unexpected(&other), &visitor)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            // A unit variant is its name.
            Value::String(name) => visitor.visit_enum(name.into_deserializer()),
            // Any other variant is an object of one key, its name, holding its content.
            Value::Object(map) if map.len() == 1 => {
                let Some((name, value)) = map.into_iter().next() else {
                    return Err(de::Error::custom("an enum needs one key"));
                };
                visitor.visit_enum(Variant { name, value })
            }
            other => Err(de::Error::invalid_type(unexpected(&other), &"an enum")),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    // Each of these takes only the JSON type it reads, as serde_json does: the code for one
    // visitor then holds one branch, not all six of `deserialize_any`.
    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Bool(b) => visitor.visit_bool(b),
            other => Err(de::Error::invalid_type(unexpected(&other), &visitor)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::String(s) => visitor.visit_string(s),
            other => Err(de::Error::invalid_type(unexpected(&other), &visitor)),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Number(n) => n.deserialize_any(visitor),
            other => Err(de::Error::invalid_type(unexpected(&other), &visitor)),
        }
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Array(items) => visit_array(items, visitor),
            other => Err(de::Error::invalid_type(unexpected(&other), &visitor)),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(Object {
                entries: map.into_iter(),
                value: None,
            }),
            other => Err(de::Error::invalid_type(unexpected(&other), &visitor)),
        }
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i128 u8 u16 u128 f32 char bytes byte_buf
        unit unit_struct tuple tuple_struct
    }
}

/// `items` to `visitor`, every one of them read.
fn visit_array<'de, V: Visitor<'de>>(items: Vec<Value>, visitor: V) -> Result<V::Value, Error> {
    let mut seq = Seq(items.into_iter());
    let value = visitor.visit_seq(&mut seq)?;
    match seq.0.len() {
        0 => Ok(value),
        left => Err(de::Error::invalid_length(
            left,
            &"fewer elements in the array",
        )),
    }
}

fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(_) => Unexpected::Other("number"),
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

struct Seq(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Seq {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0
            .next()
            .map(|v| seed.deserialize(Reader(v)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Object {
    entries: serde_json::map::IntoIter,
    value: Option<Value>,
}

impl<'de> MapAccess<'de> for Object {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(key.into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(Reader(value)),
            None => Err(de::Error::custom("a value was asked for before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

struct Variant {
    name: String,
    value: Value,
}

impl<'de> EnumAccess<'de> for Variant {
    type Error = Error;
    type Variant = Reader;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Reader), Error> {
        let name = seed.deserialize(self.name.into_deserializer())?;
        Ok((name, Reader(self.value)))
    }
}

impl<'de> VariantAccess<'de> for Reader {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.0 {
            Value::Null => Ok(()),
            other => Err(de::Error::invalid_type(
                unexpected(&other),
                &"a unit variant",
            )),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Array(_) => self.deserialize_any(visitor),
            other => Err(de::Error::invalid_type(
                unexpected(&other),
                &"a tuple variant",
            )),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_struct("", fields, visitor)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::Reader;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Prompt,
        Wrapped(u32),
        Shaped { size: f64 },
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Answer {
        name: String,
        count: u64,
        share: f64,
        note: Option<String>,
        #[serde(default)]
        missing: Option<i64>,
        kinds: Vec<Kind>,
        pair: (i32, bool),
        config: serde_json::Value,
    }

    fn read<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, serde_json::Error> {
        T::deserialize(Reader(v))
    }

    #[test]
    fn answers_read_as_serde_json_reads_them() {
        let v = json!({
            "name": "billing", "count": 3, "share": 2, "note": null,
            "kinds": ["prompt", {"wrapped": 7}, {"shaped": {"size": 0.5}}],
            "pair": [-1, true], "config": {"model": ["a", 1, null]}, "extra": 1
        });
        let ours: Answer = read(v.clone()).expect("reads");
        let theirs: Answer = serde_json::from_value(v).expect("reads");
        assert_eq!(ours, theirs);
        assert_eq!(ours.share, 2.0);
    }

    #[test]
    fn a_struct_is_an_object_and_wrong_shapes_are_refused() {
        let err = read::<Answer>(json!(["billing", 3])).expect_err("an array");
        assert!(err.to_string().contains("invalid type: sequence"), "{err}");
        assert!(read::<String>(json!(1)).is_err());
        assert!(read::<f64>(json!("1")).is_err());
        assert!(read::<bool>(json!(null)).is_err());
        assert!(read::<Vec<u32>>(json!({"a": 1})).is_err());
        assert!(read::<std::collections::BTreeMap<String, u32>>(json!([1])).is_err());
        assert_eq!(read::<u32>(json!(7)).expect("u32"), 7);
        assert_eq!(read::<i64>(json!(-7)).expect("i64"), -7);
        assert!(read::<(i32, bool)>(json!([1, true, 3])).is_err());
        assert!(read::<u64>(json!(-1)).is_err());
        assert!(read::<Kind>(json!({"prompt": null, "wrapped": 1})).is_err());
        assert!(read::<Kind>(json!("unknown")).is_err());
    }
}
