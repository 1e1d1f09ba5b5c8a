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
            // Indices must come in order without gaps (`[0]`, `[1]`, ...), as every client
            // encodes them, so a key like `a[999]` cannot make a body allocate a long array.
            if *i == items.len() {
                items.push(Value::Null);
            }
            items.get_mut(*i)?
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
        assert_eq!(
            p("items[0][price]=a&items[0][quantity]=2&items[1][price]=b"),
            json!({"items":[{"price":"a","quantity":"2"},{"price":"b"}]})
        );
    }

    #[test]
    fn refuses_bad_keys() {
        for bad in ["a]=1", "a[b=1", "[a]=1", "a=1&a[b]=2", "a[b]=1&a[b]=2", "a[1001]=x", "a[1]=x", "a[b]c=1"]
        {
            assert!(parse(bad.as_bytes()).is_err(), "{bad}");
        }
        assert!(parse(b"a[b][c][d][e][f]=1").is_err());
    }

    #[test]
    fn empty_body() {
        assert_eq!(p(""), json!({}));
    }

    proptest::proptest! {
        /// Whatever a client sends, the parser answers Ok or a FormError; it never panics.
        #[test]
        fn never_panics(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = parse(&body);
        }

        /// Bracket-shaped keys from a small alphabet, the shapes clients produce.
        #[test]
        fn never_panics_on_bracket_soup(body in "[a-c\\[\\]0-9=&%]{0,60}") {
            let _ = parse(body.as_bytes());
        }

        /// `metadata[k]=v` pairs come back as the same map.
        #[test]
        fn metadata_round_trips(map in proptest::collection::btree_map("[a-z_]{1,10}", "[ -~]{0,20}", 0..8)) {
            let pairs: Vec<(String, String)> = map.iter().map(|(k, v)| (format!("metadata[{k}]"), v.clone())).collect();
            let body = serde_urlencoded::to_string(&pairs).unwrap();
            let parsed = parse(body.as_bytes()).unwrap();
            let expected: Map<String, Value> = map.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            let got = parsed.get("metadata").cloned().unwrap_or_else(|| Value::Object(Map::new()));
            proptest::prop_assert_eq!(got, Value::Object(expected));
        }
    }
}
