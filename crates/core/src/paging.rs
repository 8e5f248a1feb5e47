//! Cursor paging of lists (WIRE.md A.5): a page size, an opaque
//! `next_cursor` and an opaque `previous_cursor`.
//!
//! A list is read by keyset: its rows are ordered by a unique key, and a
//! page is "the first `limit` rows after the key of the last row seen"
//! (`next_cursor`), or "the last `limit` rows before the key of the first
//! row seen" (`previous_cursor`). That is stable under concurrent inserts
//! (no row is seen twice, and no row that existed when paging started is
//! skipped) and always ends, as long as the order runs away from where new
//! rows land (lists of recorded actions and events run newest first, so
//! new rows land before the first page and the keys only decrease).
//!
//! Cursors are encoded by the one codec of the things API,
//! [`crate::things::cursor`]: the list's scope, then the key values of a
//! row. A page answers `next_cursor` (the key of its last row) when rows
//! follow it, and `previous_cursor` (the key of its first row) when rows
//! precede it; the first page has no `previous_cursor`, the last no
//! `next_cursor`, so paging either way always ends.

use crate::CoreError;
use crate::things::cursor::{self, KeyKind, KeyValue};

pub use crate::things::cursor::{DEFAULT_LIMIT, MAX_CURSOR as MAX_CURSOR_LEN, MAX_LIMIT};

/// Which way a cursor pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `next_cursor`: the rows after the cursor's row.
    Next,
    /// `previous_cursor`: the rows before the cursor's row.
    Previous,
}

/// What page of a list a client asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    limit: u32,
    cursor: Option<(Direction, String)>,
}

impl Default for PageRequest {
    /// The first page of [`DEFAULT_LIMIT`] rows.
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            cursor: None,
        }
    }
}

impl PageRequest {
    /// A page request from a client's `limit` and `next_cursor` query
    /// parameters. `limit`: absent means [`DEFAULT_LIMIT`], 0 is refused
    /// ([`CoreError::Invalid`]), above [`MAX_LIMIT`] is served as
    /// [`MAX_LIMIT`]. An empty cursor is the first page (the SDK stops at
    /// one, but a client may send it back); a cursor longer than
    /// [`MAX_CURSOR_LEN`] is refused. Whether the cursor decodes is checked
    /// by the list it is used on.
    pub fn new(limit: Option<u32>, cursor: Option<&str>) -> Result<Self, CoreError> {
        Self::with_cursor(limit, cursor.map(|c| (Direction::Next, c)))
    }

    /// Like [`PageRequest::new`], with a cursor of either direction.
    pub fn with_cursor(limit: Option<u32>, cursor: Option<(Direction, &str)>) -> Result<Self, CoreError> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(0) => return Err(CoreError::Invalid(format!("limit must be 1 to {MAX_LIMIT}"))),
            Some(n) => n.min(MAX_LIMIT),
        };
        let cursor = match cursor {
            None | Some((_, "")) => None,
            Some((_, c)) if c.len() > MAX_CURSOR_LEN => return Err(cursor::malformed()),
            Some((d, c)) => Some((d, c.to_owned())),
        };
        Ok(Self { limit, cursor })
    }

    /// A page request from a list's query pairs: `limit`, `next_cursor`,
    /// `previous_cursor` (others are ignored; both cursors at once is
    /// [`CoreError::Invalid`]).
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self, CoreError> {
        let mut limit = None;
        let mut cursor: Option<(Direction, &str)> = None;
        for (k, v) in pairs {
            let d = match k.as_str() {
                "limit" => {
                    limit = Some(cursor::parse_limit(v)?);
                    continue;
                }
                "next_cursor" => Direction::Next,
                "previous_cursor" => Direction::Previous,
                _ => continue,
            };
            if v.is_empty() {
                continue;
            }
            if cursor.is_some_and(|(old, _)| old != d) {
                return Err(CoreError::Invalid(
                    "pass next_cursor or previous_cursor, not both".into(),
                ));
            }
            cursor = Some((d, v.as_str()));
        }
        Self::with_cursor(limit, cursor)
    }

    /// Rows per page.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The cursor given, if any.
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_ref().map(|(_, c)| c.as_str())
    }

    /// The direction of the cursor given (`None`: the first page).
    pub fn direction(&self) -> Option<Direction> {
        self.cursor.as_ref().map(|(d, _)| *d)
    }

    /// The key values of the cursor of the list `scope` (`None`: the first
    /// page): [`CoreError::Invalid`] for a cursor of another list or
    /// one that does not decode to `kinds`.
    pub fn key(&self, scope: &str, kinds: &[KeyKind]) -> Result<Option<Vec<KeyValue>>, CoreError> {
        self.cursor
            .as_ref()
            .map(|(_, c)| cursor::decode(scope, c, kinds))
            .transpose()
    }

    /// Like [`PageRequest::key`] for a list keyed by one integer.
    pub(crate) fn int_key(&self, scope: &str) -> Result<Option<i64>, CoreError> {
        match self.key(scope, &[KeyKind::Int])?.as_deref() {
            None => Ok(None),
            Some([KeyValue::Int(i)]) => Ok(Some(*i)),
            Some(_) => Err(cursor::malformed()),
        }
    }
}

/// One page of a list, and the cursors of the pages around it.
#[derive(Debug, Clone, PartialEq)]
pub struct CursorPage<T> {
    /// The rows of this page, in list order.
    pub items: Vec<T>,
    /// The cursor of the next page; `None` on the last page (the face
    /// writes it as `null`).
    pub next_cursor: Option<String>,
    /// The cursor of the previous page; `None` on the first page.
    pub previous_cursor: Option<String>,
}

impl<T> CursorPage<T> {
    /// A page from `rows` read for `page` with a limit of `limit + 1`: in
    /// list order for a first page or a `next_cursor`, in the reverse order
    /// (the rows nearest the cursor first) for a `previous_cursor`. The
    /// extra row, if present, only says that another page follows in the
    /// direction read. `key_of` gives a row's key values for its cursor.
    pub fn from_rows(mut rows: Vec<T>, page: &PageRequest, scope: &str, key_of: impl Fn(&T) -> Vec<KeyValue>) -> Self {
        let limit = page.limit() as usize;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let keyed = rows
            .into_iter()
            .map(|r| {
                let k = key_of(&r);
                (r, k)
            })
            .collect();
        Self::from_keyed(keyed, more, page.direction(), scope)
    }

    /// A page from at most `limit` `rows` with their key values, read in
    /// the order [`CursorPage::from_rows`] describes for `direction`;
    /// `more` says whether another row followed them.
    pub fn from_keyed(
        mut rows: Vec<(T, Vec<KeyValue>)>,
        more: bool,
        direction: Option<Direction>,
        scope: &str,
    ) -> Self {
        let key = |r: Option<&(T, Vec<KeyValue>)>| r.map(|(_, k)| cursor::encode(scope, k));
        let (next_cursor, previous_cursor) = match direction {
            None => (if more { key(rows.last()) } else { None }, None),
            Some(Direction::Next) => (if more { key(rows.last()) } else { None }, key(rows.first())),
            Some(Direction::Previous) => {
                rows.reverse();
                (key(rows.last()), if more { key(rows.first()) } else { None })
            }
        };
        Self {
            items: rows.into_iter().map(|(r, _)| r).collect(),
            next_cursor,
            previous_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(i: &i32) -> Vec<KeyValue> {
        vec![KeyValue::Int(i64::from(*i))]
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn limits_default_clamp_and_refuse_zero() {
        assert_eq!(PageRequest::new(None, None).unwrap().limit(), DEFAULT_LIMIT);
        assert_eq!(PageRequest::new(Some(5000), None).unwrap().limit(), MAX_LIMIT);
        assert_eq!(
            PageRequest::new(Some(7), Some("")).unwrap(),
            PageRequest::new(Some(7), None).unwrap()
        );
        assert!(PageRequest::new(Some(0), None).is_err());
        assert!(PageRequest::new(None, Some(&"x".repeat(MAX_CURSOR_LEN + 1))).is_err());
    }

    #[test]
    fn query_pairs_give_limit_and_one_cursor() {
        let p = PageRequest::from_pairs(&pairs(&[("limit", "3"), ("previous_cursor", "abc"), ("x", "y")])).unwrap();
        assert_eq!(
            (p.limit(), p.direction(), p.cursor()),
            (3, Some(Direction::Previous), Some("abc"))
        );
        let p = PageRequest::from_pairs(&pairs(&[("next_cursor", ""), ("previous_cursor", "")])).unwrap();
        assert_eq!(p, PageRequest::default());
        assert!(PageRequest::from_pairs(&pairs(&[("next_cursor", "a"), ("previous_cursor", "b")])).is_err());
        assert!(PageRequest::from_pairs(&pairs(&[("limit", "0")])).is_err());
    }

    #[test]
    fn pages_have_cursors_only_where_rows_are() {
        let first = PageRequest::new(Some(2), None).map(|p| CursorPage::from_rows(vec![9, 8, 7], &p, "s", int));
        let first = first.unwrap();
        assert_eq!(first.items, vec![9, 8]);
        assert_eq!(first.previous_cursor, None);
        let next = first.next_cursor.unwrap();
        let req = PageRequest::new(Some(2), Some(&next)).unwrap();
        assert_eq!(req.int_key("s").unwrap(), Some(8));
        assert!(req.int_key("t").is_err(), "a cursor of another list");
        let last = CursorPage::from_rows(vec![7], &req, "s", int);
        assert_eq!(last.next_cursor, None);
        let back = last.previous_cursor.unwrap();
        let req = PageRequest::with_cursor(Some(2), Some((Direction::Previous, &back))).unwrap();
        assert_eq!(req.int_key("s").unwrap(), Some(7));
        // Read nearest first (8, 9), shown in list order, none before.
        let again = CursorPage::from_rows(vec![8, 9], &req, "s", int);
        assert_eq!((again.items, again.previous_cursor), (vec![9, 8], None));
        assert!(again.next_cursor.is_some());
    }
}
