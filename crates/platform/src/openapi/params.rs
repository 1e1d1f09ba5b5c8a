//! Query-parameter schemas the derive cannot say.

use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};

/// `schema`, or the empty value: `?per_page=` means "the default" (an empty query value counts
/// as absent, as the seed's ConvertEmptyStringsToNull had it), so the document must allow it.
pub fn or_empty(schema: impl Into<RefOr<Schema>>) -> Schema {
    let empty = ObjectBuilder::new().schema_type(Type::String).max_length(Some(0));
    Schema::OneOf(OneOfBuilder::new().item(schema).item(empty).build())
}

/// An `int64` from `min` to `max` (when given), or the empty value.
pub fn integer_or_empty(min: i64, max: Option<i64>) -> Schema {
    or_empty(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(min))
            .maximum(max),
    )
}

/// A boolean, or the empty value.
pub fn boolean_or_empty() -> Schema {
    or_empty(ObjectBuilder::new().schema_type(Type::Boolean))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_integer_or_nothing() {
        let json = serde_json::to_value(integer_or_empty(1, Some(100))).unwrap();
        assert_eq!(json["oneOf"][0]["type"], "integer");
        assert_eq!(json["oneOf"][0]["maximum"], 100);
        assert_eq!(json["oneOf"][1], serde_json::json!({"type": "string", "maxLength": 0}));
        assert_eq!(serde_json::to_value(boolean_or_empty()).unwrap()["oneOf"][0]["type"], "boolean");
    }
}
