//! Stripe's form encoding: `application/x-www-form-urlencoded` with bracket notation for
//! nested values (`metadata[order_id]=42`, `payment_method_types[]=card`,
//! `payment_method_types[0]=card`, `expand[0]=latest_charge`). serde_urlencoded only decodes
//! flat pairs, so the pairs are decoded by it and the brackets are folded here into a JSON value.

use serde_json::{Map, Value};

/// Deepest nesting accepted (`a[b][c][d]`); Stripe's own parameters need three.
const MAX_DEPTH: usize = 5;
/// Highest array index accepted, so `a[99999999]` cannot allocate a huge array.
const MAX_INDEX: usize = 1000;

/// Why a body could not be read as Stripe form parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// The body is not valid `application/x-www-form-urlencoded`.
    #[error("the request body is not valid application/x-www-form-urlencoded")]
    Encoding,
    /// A key has unbalanced brackets, is nested too deeply or mixes array and hash syntax.
    #[error("Invalid parameter name: {0}")]
    Key(String),
}

/// Decodes a form body (or query string) into a JSON object. Every leaf is a string, as on
/// the wire; the handlers convert and validate.
pub fn parse(body: &[u8]) -> Result<Map<String, Value>, FormError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|_| FormError::Encoding)?;
    let mut root = Value::Object(Map::new());
    for (key, value) in pairs {
        let path = split_key(&key).ok_or_else(|| FormError::Key(key.clone()))?;
        insert(&mut root, &path, value).ok_or(FormError::Key(key))?;
    }
    match root {
        Value::Object(map) => Ok(map),
        _ => Ok(Map::new()),
    }
}

/// One step of a bracketed key.
#[derive(Debug, PartialEq, Eq)]
enum Segment {
    /// `name` or `[name]`.
    Field(String),
    /// `[3]`.
    Index(usize),
    /// `[]`: append.
    Push,
}

fn split_key(key: &str) -> Option<Vec<Segment>> {
    let (head, mut rest) = match key.find('[') {
        Some(i) => key.split_at(i),
        None => (key, ""),
    };
    if head.is_empty() || head.contains(']') {
        return None;
    }
    let mut path = vec![Segment::Field(head.to_owned())];
    while !rest.is_empty() {
        let inner_end = rest.find(']')?;
        if !rest.starts_with('[') {
            return None;
        }
        let inner = &rest[1..inner_end];
        if inner.contains('[') {
            return None;
        }
        path.push(if inner.is_empty() {
            Segment::Push
        } else if let Ok(i) = inner.parse::<usize>() {
            if i > MAX_INDEX {
                return None;
            }
            Segment::Index(i)
        } else {
            Segment::Field(inner.to_owned())
        });
        rest = &rest[inner_end + 1..];
    }
    (path.len() <= MAX_DEPTH).then_some(path)
}

/// Puts `value` at `path` under `node`; `None` when the key contradicts an earlier one
/// (`a=1&a[b]=2`).
fn insert(node: &mut Value, path: &[Segment], value: String) -> Option<()> {
    let (first, rest) = path.split_first()?;
    let slot: &mut Value = match first {
        Segment::Field(name) => {
            if node.is_null() {
                *node = Value::Object(Map::new());
            }
            node.as_object_mut()?.entry(name.clone()).or_insert(Value::Null)
        }
        Segment::Index(i) => {
            if node.is_null() {
                *node = Value::Array(Vec::new());
            }
            let items = node.as_array_mut()?;
            if items.len() <= *i {
                items.resize(*i + 1, Value::Null);
            }
            &mut items[*i]
        }
        Segment::Push => {
            if node.is_null() {
                *node = Value::Array(Vec::new());
            }
            let items = node.as_array_mut()?;
            // `a[][b]=1&a[][c]=2` builds one element per `[]` only for scalars; nested
            // pushes start a new element, which is how Stripe's clients never encode anyway.
            items.push(Value::Null);
            items.last_mut()?
        }
    };
    if rest.is_empty() {
        if !slot.is_null() {
            return None;
        }
        *slot = Value::String(value);
        Some(())
    } else {
        insert(slot, rest, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> Value {
        Value::Object(parse(s.as_bytes()).unwrap())
    }

    #[test]
    fn flat_nested_and_arrays() {
        assert_eq!(
            p(
                "amount=2000&currency=usd&metadata[order_id]=42&payment_method_types[]=card&expand[0]=a&expand[1]=b"
            ),
            json!({"amount":"2000","currency":"usd","metadata":{"order_id":"42"},
                   "payment_method_types":["card"],"expand":["a","b"]})
        );
    }

    #[test]
    fn percent_encoded_brackets_and_plus() {
        assert_eq!(
            p("metadata%5Bnote%5D=a+b%26c&payment_method_types%5B0%5D=card"),
            json!({"metadata":{"note":"a b&c"},"payment_method_types":["card"]})
        );
    }

    #[test]
    fn deeper_nesting() {
        assert_eq!(
            p("payment_method_options[card][request_three_d_secure]=any"),
            json!({"payment_method_options":{"card":{"request_three_d_secure":"any"}}})
        );
    }

    #[test]
    fn refuses_bad_keys() {
        for bad in ["a]=1", "a[b=1", "[a]=1", "a=1&a[b]=2", "a[b]=1&a[b]=2", "a[1001]=x", "a[b]c=1"] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad}");
        }
        assert!(parse(b"a[b][c][d][e][f]=1").is_err());
    }

    #[test]
    fn empty_body() {
        assert_eq!(p(""), json!({}));
    }
}
