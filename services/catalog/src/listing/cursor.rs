//! Keyset paging: `cursor` names the last row of the previous page (its sort value and id), so
//! the next page starts there with an index seek instead of skipping `OFFSET` rows.
//!
//! The token is opaque to clients but readable: `c.<created_at µs>.<id>`, `p.<price_cents>.<id>`
//! or `n.<name as hex>.<id>`, the letter matching `sort_by`.

use super::query::SortBy;

/// `created_at` values a cursor may carry: years 1 to 9999, in microseconds since the epoch.
/// chrono accepts far more (±262 000 years) than PostgreSQL's `timestamptz` (4713 BC to
/// 294276 AD); a cursor outside what the table can hold is simply invalid.
const CREATED_AT_RANGE: std::ops::RangeInclusive<i64> = -62_135_596_800_000_000..=253_402_300_799_999_999;

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
            CursorKey::Name(name) => format!("n.{}.{}", domain::hex::encode(name.as_bytes()), self.id),
        }
    }

    /// Reads a token; `None` when it is not one.
    pub fn decode(token: &str) -> Option<Cursor> {
        let mut parts = token.splitn(3, '.');
        let (tag, value, id) = (parts.next()?, parts.next()?, parts.next()?);
        let id = id.parse().ok()?;
        let key = match tag {
            "c" => CursorKey::CreatedAt(value.parse().ok().filter(|us| CREATED_AT_RANGE.contains(us))?),
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
    // A name with NUL (which PostgreSQL text cannot hold) was never a product's name.
    String::from_utf8(bytes).ok().filter(|name| !name.contains('\0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        for key in [
            CursorKey::CreatedAt(1_764_000_000_123_456),
            CursorKey::CreatedAt(-62_135_596_800_000_000),
            CursorKey::CreatedAt(253_402_300_799_999_999),
            CursorKey::PriceCents(2999),
            CursorKey::Name("Café. Tee".into()),
        ] {
            let c = Cursor { key, id: 42 };
            assert_eq!(Cursor::decode(&c.encode()), Some(c));
        }
        for bad in [
            "",
            "x.1.2",
            "c.1",
            "c.a.2",
            "n.zz.1",
            "n.abc.1",
            "p.1.x",
            "n.ff.1",
            "n.610062.1",
            "c.-3220000000000000000.1",
            "c.253402300800000000.1",
        ] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }
}
