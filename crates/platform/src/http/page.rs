//! Keyset pages over rows listed newest first by id: `limit` and an opaque `cursor` (the
//! previous answer's `next_cursor`, naming its last row), so a page starts with an index seek
//! instead of skipping `OFFSET` rows. One rule for order's lists and admin search; catalog's
//! listing sorts by other columns and carries the sort value too (its own `listing::cursor`).

use super::error::{ApiError, ValidationErrors};

/// The cursor's prefix: `o<id>`.
const PREFIX: char = 'o';

/// A page asked for: how many rows, and below which id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdPage {
    /// Rows on the page.
    pub limit: i64,
    /// Only ids below this one (`i64::MAX` for the first page).
    pub before: i64,
}

impl IdPage {
    /// Reads `limit` (1 to `max`, `default` when absent) and `cursor`; 422 naming the field.
    pub fn parse(limit: Option<i64>, cursor: Option<&str>, default: i64, max: i64) -> Result<Self, ApiError> {
        let limit = limit.unwrap_or(default);
        if !(1..=max).contains(&limit) {
            return Err(ApiError::Validation(ValidationErrors::single(
                "limit",
                format!("The limit must be between 1 and {max}."),
            )));
        }
        let before = match cursor.map(str::trim) {
            None | Some("") => i64::MAX,
            Some(c) => {
                c.strip_prefix(PREFIX).and_then(|n| n.parse::<i64>().ok()).filter(|n| *n > 0).ok_or_else(
                    || ApiError::Validation(ValidationErrors::single("cursor", "The cursor is not valid.")),
                )?
            }
        };
        Ok(Self { limit, before })
    }

    /// Rows to fetch: one more than the page, to know whether another follows.
    pub fn fetch(&self) -> i64 {
        self.limit.saturating_add(1)
    }

    /// The page from `rows` (fetched with [`IdPage::fetch`], newest first) and the cursor of
    /// the next one, if any.
    pub fn split<T>(&self, mut rows: Vec<T>, id: impl Fn(&T) -> i64) -> (Vec<T>, Option<String>) {
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = if more { rows.last().map(|r| format!("{PREFIX}{}", id(r))) } else { None };
        (rows, next)
    }
}

#[cfg(test)]
mod tests {
    use super::IdPage;

    #[test]
    fn pages_follow_the_cursor() {
        let first = IdPage::parse(None, None, 2, 100).unwrap();
        assert_eq!(first, IdPage { limit: 2, before: i64::MAX });
        let (page, next) = first.split(vec![9, 7, 5], |r| *r);
        assert_eq!((page, next.as_deref()), (vec![9, 7], Some("o7")));
        let second = IdPage::parse(Some(2), next.as_deref(), 20, 100).unwrap();
        assert_eq!(second.before, 7);
        assert_eq!(second.split(vec![5], |r| *r), (vec![5], None));
    }

    #[test]
    fn bad_limits_and_cursors_are_422() {
        for (limit, cursor) in
            [(Some(0), None), (Some(101), None), (None, Some("x1")), (None, Some("o-1")), (None, Some("o"))]
        {
            assert!(IdPage::parse(limit, cursor, 20, 100).is_err(), "{limit:?} {cursor:?}");
        }
    }
}
