//! JSON documents stored in TEXT columns (the schema keeps them as text on every backend).
//!
//! A [`StoredJson`] is checked when a row is decoded, so a corrupt column fails the read
//! that meets it (sqlx reports it as `ColumnDecode`, naming the column) instead of
//! reading as an absent attribute. It keeps the text as stored: a view can write it out
//! without parsing it again.

use std::fmt;

use serde::de::{DeserializeOwned, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;

/// A JSON document read from or written to a TEXT column.
#[derive(Clone)]
pub struct StoredJson(Box<RawValue>);

/// Why a stored document cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StoredJsonError {
    /// The text is not JSON (a row decoded from a corrupt column).
    #[error("not valid JSON")]
    Invalid(#[source] serde_json::Error),
    /// The text is JSON, but not the document its reader expects.
    #[error("not a valid {expected}")]
    Shape {
        expected: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

impl StoredJson {
    /// Checks `text` as a document [`Value`] would accept (syntax, number range, nesting
    /// depth, escapes), so that [`StoredJson::to_value`] cannot fail afterwards.
    pub fn from_text(text: String) -> Result<Self, StoredJsonError> {
        serde_json::from_str::<Validated>(&text).map_err(StoredJsonError::Invalid)?;
        RawValue::from_string(text)
            .map(StoredJson)
            .map_err(StoredJsonError::Invalid)
    }

    pub fn from_value(value: &Value) -> Self {
        StoredJson::from_serialize(value).expect("a JSON value always serialises")
    }

    /// The JSON form of `value` (a typed request, a VNFD), written directly.
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        serde_json::value::to_raw_value(value).map(StoredJson)
    }

    /// The document as a `T`; an error names `T` when the document is not one.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, StoredJsonError> {
        serde_json::from_str(self.as_str()).map_err(|source| StoredJsonError::Shape {
            expected: std::any::type_name::<T>(),
            source,
        })
    }

    /// The document as a JSON value.
    pub fn to_value(&self) -> Value {
        // `from_text` checked the text as `Value` reads it; what serde writes reads back
        // too, within serde_json's depth limit, which the request bodies that documents
        // come from were parsed with (our own types nest a few levels only).
        serde_json::from_str(self.as_str()).expect("stored JSON was validated")
    }

    /// The document's members, when it is an object.
    pub fn to_object(&self) -> Option<Map<String, Value>> {
        match self.to_value() {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }

    /// The document as stored.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }
}

impl From<Value> for StoredJson {
    fn from(value: Value) -> Self {
        StoredJson::from_value(&value)
    }
}

impl From<Map<String, Value>> for StoredJson {
    fn from(map: Map<String, Value>) -> Self {
        StoredJson::from_serialize(&map).expect("a JSON object always serialises")
    }
}

impl fmt::Debug for StoredJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Documents are equal when stored alike (what a compare-and-swap on the column sees).
impl PartialEq for StoredJson {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for StoredJson {}

/// Writes the stored text unchanged (through serde_json; other serialisers get the
/// document as serde_json's raw value token).
impl Serialize for StoredJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<DB: sqlx::Database> sqlx::Type<DB> for StoredJson
where
    String: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as sqlx::Type<DB>>::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as sqlx::Type<DB>>::compatible(ty)
    }
}

impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for StoredJson
where
    String: sqlx::Decode<'r, DB>,
{
    fn decode(value: <DB as sqlx::Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <String as sqlx::Decode<'r, DB>>::decode(value)?;
        Ok(StoredJson::from_text(text)?)
    }
}

impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for StoredJson
where
    String: sqlx::Encode<'q, DB>,
{
    fn encode_by_ref(
        &self,
        buf: &mut <DB as sqlx::Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        // The argument may outlive `self` (SQLite keeps it until the query runs).
        <String as sqlx::Encode<'q, DB>>::encode(self.as_str().to_owned(), buf)
    }

    fn size_hint(&self) -> usize {
        self.as_str().len()
    }
}

/// Accepts exactly the documents [`Value`] accepts, building nothing. serde_json's raw
/// value check only scans: it takes `1e999`, `"\udc00"` and any depth, which `Value`
/// refuses.
struct Validated;

impl<'de> Deserialize<'de> for Validated {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Validated)
    }
}

impl<'de> Visitor<'de> for Validated {
    type Value = Validated;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self, E> {
        Ok(Validated)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self, E> {
        Ok(Validated)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self, E> {
        Ok(Validated)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self, E> {
        Ok(Validated)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self, E> {
        Ok(Validated)
    }

    fn visit_unit<E>(self) -> Result<Self, E> {
        Ok(Validated)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<Validated>()?.is_some() {}
        Ok(Validated)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self, A::Error> {
        while map.next_entry::<Validated, Validated>()?.is_some() {}
        Ok(Validated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_value_refuses_are_refused() {
        for corrupt in ["", "{", "{\"a\": 1", "not json", "1e999", "\"\\udc00\"", "{} {}"] {
            let error = StoredJson::from_text(corrupt.into()).unwrap_err();
            assert!(matches!(error, StoredJsonError::Invalid(_)), "{corrupt:?}");
            assert!(serde_json::from_str::<Value>(corrupt).is_err(), "{corrupt:?}");
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(StoredJson::from_text(deep).is_err());
    }

    #[test]
    fn stored_text_is_written_out_unchanged() {
        // Key order, spacing and number forms as stored, not as serde_json would write them.
        let text = r#"{"z": 1.50, "a": [true, null], "m": {"y": "\u00e9", "b": 2}}"#;
        let stored = StoredJson::from_text(text.into()).unwrap();
        assert_eq!(stored.as_str(), text);
        assert_eq!(serde_json::to_string(&stored).unwrap(), text);
        let wrapped = serde_json::to_string(&json!({"k": 1})).unwrap();
        assert_eq!(
            serde_json::to_string(&StoredJson::from(json!({"k": 1}))).unwrap(),
            wrapped
        );
        assert_eq!(
            stored.to_value(),
            json!({"z": 1.5, "a": [true, null], "m": {"y": "é", "b": 2}})
        );
    }

    #[test]
    fn values_round_trip_in_order() {
        let value = json!({"vimConnectionInfo": {"b": {"vimType": "k"}, "a": {}}, "n": 1});
        let stored = StoredJson::from_value(&value);
        assert_eq!(stored.as_str(), value.to_string());
        assert_eq!(stored.to_value(), value);
        let back = StoredJson::from_text(stored.as_str().to_owned()).unwrap();
        assert_eq!(back, stored);
        assert_eq!(
            stored.to_object().unwrap().keys().next().unwrap(),
            "vimConnectionInfo"
        );
        assert_eq!(StoredJson::from(json!([1])).to_object(), None);
    }

    #[test]
    fn a_document_of_another_shape_names_the_expected_type() {
        let stored = StoredJson::from(json!({"a": 1}));
        let error = stored.parse::<Vec<String>>().unwrap_err();
        assert!(
            error.to_string().starts_with("not a valid alloc::vec::Vec"),
            "{error}"
        );
        assert_eq!(stored.parse::<Map<String, Value>>().unwrap()["a"], 1);
    }

    #[tokio::test]
    async fn a_corrupt_column_is_a_decode_error_naming_it() {
        #[derive(Debug, sqlx::FromRow)]
        struct Row {
            metadata: Option<StoredJson>,
        }
        let db = crate::Database::connect("sqlite://", &crate::PoolSettings::default())
            .await
            .unwrap();
        let crate::pool::Pool::Sqlite(pool) = &db.pool else {
            unreachable!("an SQLite URL")
        };
        let read = |sql: &'static str| sqlx::query_as::<_, Row>(sql).fetch_one(pool);
        let row = read("SELECT '{\"a\":[1, 2]}' AS metadata").await.unwrap();
        assert_eq!(row.metadata.unwrap().as_str(), r#"{"a":[1, 2]}"#);
        assert_eq!(read("SELECT NULL AS metadata").await.unwrap().metadata, None);
        let error = read("SELECT '{\"a\": ' AS metadata").await.unwrap_err();
        let sqlx::Error::ColumnDecode { index, source } = &error else {
            panic!("{error}")
        };
        assert_eq!(index, "\"metadata\"");
        assert!(source.downcast_ref::<StoredJsonError>().is_some(), "{source}");
        assert!(error.to_string().contains("not valid JSON"), "{error}");
    }
}
