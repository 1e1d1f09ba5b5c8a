//! Keyset paging: `cursor` names the last row of the previous page (its sort value and id), so
//! the next page starts there with an index seek instead of skipping `OFFSET` rows.
//!
//! The token is opaque to clients but readable: `c.<created_at µs>.<id>`, `p.<price_cents>.<id>`
//! or `n.<name as hex>.<id>`, the letter matching `sort_by`.

use std::fmt::Write as _;

use super::query::SortBy;

/// Where the previous page ended.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor {
    /// The last row's sort value.
    pub key: CursorKey,
    /// The last row's id (the tie-break).
    pub id: i64,
}

/// A sort value, one per sortable column.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CursorKey {
    /// `created_at` in microseconds since the Unix epoch.
    CreatedAt(i64),
    /// `price_cents`.
    PriceCents(i64),
    /// `name`.
    Name(String),
}

impl CursorKey {
    /// The column this value sorts.
    pub fn sort_by(&self) -> SortBy {
        match self {
            CursorKey::CreatedAt(_) => SortBy::CreatedAt,
            CursorKey::PriceCents(_) => SortBy::PriceCents,
            CursorKey::Name(_) => SortBy::Name,
        }
    }
}

impl Cursor {
    /// The token.
    pub fn encode(&self) -> String {
        match &self.key {
            CursorKey::CreatedAt(us) => format!("c.{us}.{}", self.id),
            CursorKey::PriceCents(p) => format!("p.{p}.{}", self.id),
            CursorKey::Name(name) => {
                let hex = name.bytes().fold(String::with_capacity(name.len() * 2), |mut s, b| {
                    let _ = write!(s, "{b:02x}");
                    s
                });
                format!("n.{hex}.{}", self.id)
            }
        }
    }

    /// Reads a token; `None` when it is not one.
    pub fn decode(token: &str) -> Option<Cursor> {
        let mut parts = token.splitn(3, '.');
        let (tag, value, id) = (parts.next()?, parts.next()?, parts.next()?);
        let id = id.parse().ok()?;
        let key = match tag {
            "c" => CursorKey::CreatedAt(
                value.parse().ok().filter(|us| chrono::DateTime::from_timestamp_micros(*us).is_some())?,
            ),
            "p" => CursorKey::PriceCents(value.parse().ok()?),
            "n" => CursorKey::Name(unhex(value)?),
            _ => return None,
        };
        Some(Cursor { key, id })
    }
}

fn unhex(s: &str) -> Option<String> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let bytes = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        for key in [
            CursorKey::CreatedAt(1_764_000_000_123_456),
            CursorKey::PriceCents(2999),
            CursorKey::Name("Café. Tee".into()),
        ] {
            let c = Cursor { key, id: 42 };
            assert_eq!(Cursor::decode(&c.encode()), Some(c));
        }
        for bad in ["", "x.1.2", "c.1", "c.a.2", "n.zz.1", "n.abc.1", "p.1.x", "n.ff.1"] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }
}
