//! Typed access to decoded form parameters, with Stripe's messages for wrong values.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::ApiError;

/// Stripe's metadata limits: 50 keys, keys up to 40 characters, values up to 500.
const METADATA_MAX_KEYS: usize = 50;
const METADATA_MAX_KEY_LEN: usize = 40;
const METADATA_MAX_VALUE_LEN: usize = 500;

/// Request parameters as decoded from the form body (or query string).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params(pub Map<String, Value>);

/// How a metadata parameter changes the stored metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataChange {
    /// `metadata=`: remove every key.
    Clear,
    /// `metadata[k]=v` sets `k`; `metadata[k]=` removes it.
    Merge(BTreeMap<String, String>),
}

impl MetadataChange {
    /// Applies the change to stored metadata.
    pub fn apply(self, metadata: &mut BTreeMap<String, String>) {
        match self {
            MetadataChange::Clear => metadata.clear(),
            MetadataChange::Merge(changes) => {
                for (k, v) in changes {
                    if v.is_empty() {
                        metadata.remove(&k);
                    } else {
                        metadata.insert(k, v);
                    }
                }
            }
        }
    }
}

impl Params {
    /// Refuses any top-level parameter not in `allowed`, as Stripe does.
    pub fn only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self.0.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(ApiError::unknown_param(k)),
            None => Ok(()),
        }
    }

    /// Whether the parameter was sent.
    pub fn has(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// A string parameter.
    pub fn str(&self, key: &str) -> Result<Option<String>, ApiError> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::invalid(
                "parameter_invalid_string",
                format!("Invalid string: {key} must be a string"),
            )
            .with_param(key)),
        }
    }

    /// A non-empty string parameter, refusing an empty one (`payment_method=`).
    pub fn non_empty(&self, key: &str) -> Result<Option<String>, ApiError> {
        match self.str(key)? {
            Some(s) if s.is_empty() => Err(ApiError::invalid(
                "parameter_invalid_empty",
                format!("You passed an empty string for '{key}'. We assume empty values are an attempt to unset a parameter; however '{key}' cannot be unset. You should remove '{key}' from your request or supply a non-empty value."),
            )
            .with_param(key)),
            other => Ok(other),
        }
    }

    /// An integer parameter (`Invalid integer: 12.5` otherwise).
    pub fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        let Some(s) = self.str(key)? else { return Ok(None) };
        s.parse::<i64>().map(Some).map_err(|_| {
            ApiError::invalid("parameter_invalid_integer", format!("Invalid integer: {s}")).with_param(key)
        })
    }

    /// A boolean parameter (`true`/`false`).
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.str(key)?.as_deref() {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => {
                Err(ApiError::invalid("parameter_invalid_boolean", format!("Invalid boolean: {other}"))
                    .with_param(key))
            }
        }
    }

    /// A list of strings (`k[]=a&k[]=b` or `k[0]=a&k[1]=b`).
    pub fn str_list(&self, key: &str) -> Result<Option<Vec<String>>, ApiError> {
        let bad = || {
            ApiError::invalid_uncoded(format!("Invalid array: {key} must be an array of strings"))
                .with_param(key)
        };
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or_else(bad))
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(bad()),
        }
    }

    /// The `metadata` parameter, checked against Stripe's limits.
    pub fn metadata(&self) -> Result<Option<MetadataChange>, ApiError> {
        match self.0.get("metadata") {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(Some(MetadataChange::Clear)),
            Some(Value::Object(map)) => {
                if map.len() > METADATA_MAX_KEYS {
                    return Err(ApiError::invalid_uncoded(format!(
                        "Invalid metadata: metadata can have up to {METADATA_MAX_KEYS} keys"
                    ))
                    .with_param("metadata"));
                }
                let mut out = BTreeMap::new();
                for (k, v) in map {
                    let param = format!("metadata[{k}]");
                    let Some(v) = v.as_str() else {
                        return Err(ApiError::invalid_uncoded("Invalid metadata: values must be strings")
                            .with_param(&param));
                    };
                    if k.chars().count() > METADATA_MAX_KEY_LEN {
                        return Err(ApiError::invalid_uncoded(format!(
                            "Metadata keys can have up to {METADATA_MAX_KEY_LEN} characters"
                        ))
                        .with_param(&param));
                    }
                    if v.chars().count() > METADATA_MAX_VALUE_LEN {
                        return Err(ApiError::invalid_uncoded(format!(
                            "Metadata values can have up to {METADATA_MAX_VALUE_LEN} characters"
                        ))
                        .with_param(&param));
                    }
                    out.insert(k.clone(), v.to_owned());
                }
                Ok(Some(MetadataChange::Merge(out)))
            }
            Some(_) => {
                Err(ApiError::invalid_uncoded("Invalid hash: metadata must be a hash").with_param("metadata"))
            }
        }
    }
}
