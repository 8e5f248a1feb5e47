//! Cursor paging of lists (WIRE.md A.5): a page size and an opaque
//! `next_cursor`.
//!
//! A list is read by keyset: its rows are ordered by a unique key, and a
//! page is "the first `limit` rows after the key of the last row seen".
//! That is stable under concurrent inserts (no row is seen twice, and no
//! row that existed when paging started is skipped) and always ends, as
//! long as the order runs away from where new rows land (lists of recorded
//! actions and events run newest first, so new rows land before the first
//! page and the keys only decrease).
//!
//! The cursor a client sees is encoded (`encode`) from the key of the last row of
//! a page: base64url (no padding) of the JSON `[scope, key]`. It is opaque to
//! clients but not secret; the scope names the list it belongs to (a
//! cursor of the actions list is refused by the events list). `decode`
//! turns it back into the key, or fails with [`CoreError::Invalid`] for a
//! cursor that is too long, not base64url, not JSON of the right shape or
//! of another scope: a client never makes the server panic or loop with a
//! cursor. Any serde value can be a key (a sequence number, or a
//! `(sort value, uid)` pair), so other lists can reuse this codec.

use base64::Engine as _;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::CoreError;

/// Page size when the client asks for none.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page size; larger requests are served this many rows.
pub const MAX_LIMIT: u32 = 1000;
/// Longest cursor accepted, in bytes (before decoding).
pub const MAX_CURSOR_LEN: usize = 1024;

/// What page of a list a client asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    limit: u32,
    cursor: Option<String>,
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
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(0) => return Err(CoreError::Invalid(format!("limit must be 1 to {MAX_LIMIT}"))),
            Some(n) => n.min(MAX_LIMIT),
        };
        let cursor = match cursor {
            None | Some("") => None,
            Some(c) if c.len() > MAX_CURSOR_LEN => return Err(invalid_cursor()),
            Some(c) => Some(c.to_owned()),
        };
        Ok(Self { limit, cursor })
    }

    /// Rows per page.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The cursor of the previous page, if any.
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    /// The key after which this page starts (`None`: the first page).
    pub(crate) fn after<K: DeserializeOwned>(&self, scope: &str) -> Result<Option<K>, CoreError> {
        self.cursor.as_deref().map(|c| decode(scope, c)).transpose()
    }
}

/// One page of a list, and the cursor of the next one.
#[derive(Debug, Clone, PartialEq)]
pub struct CursorPage<T> {
    /// The rows of this page, in list order.
    pub items: Vec<T>,
    /// The cursor of the next page; `None` on the last page (the face
    /// writes it as `null`).
    pub next_cursor: Option<String>,
}

impl<T> CursorPage<T> {
    /// A page from `rows` read with a limit of `limit + 1`: the extra row,
    /// if present, only says that another page follows, whose cursor is
    /// the key (`key_of`) of this page's last row.
    pub(crate) fn from_rows<K: Serialize>(mut rows: Vec<T>, limit: u32, scope: &str, key_of: impl Fn(&T) -> K) -> Self {
        let limit = limit as usize;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if more {
            rows.last().map(|r| encode(scope, &key_of(r)))
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }
}

/// The opaque cursor of `key` in the list `scope`.
pub(crate) fn encode<K: Serialize>(scope: &str, key: &K) -> String {
    // A scope and a serializable key always make JSON.
    let json = serde_json::to_vec(&(scope, key)).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

/// The key of a cursor of the list `scope`; [`CoreError::Invalid`] for
/// anything else.
pub(crate) fn decode<K: DeserializeOwned>(scope: &str, cursor: &str) -> Result<K, CoreError> {
    if cursor.len() > MAX_CURSOR_LEN {
        return Err(invalid_cursor());
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid_cursor())?;
    let (found, key): (String, K) = serde_json::from_slice(&bytes).map_err(|_| invalid_cursor())?;
    if found != scope {
        return Err(invalid_cursor());
    }
    Ok(key)
}

fn invalid_cursor() -> CoreError {
    CoreError::Invalid("invalid next_cursor: pass back a cursor this list returned".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_in_its_scope_only() {
        let c = encode("actions", &42_i64);
        assert!(
            c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{c}"
        );
        assert_eq!(decode::<i64>("actions", &c).unwrap(), 42);
        assert!(decode::<i64>("events", &c).is_err());
        let pair = encode("things", &("b", "uid-1"));
        assert_eq!(
            decode::<(String, String)>("things", &pair).unwrap(),
            ("b".into(), "uid-1".into())
        );
    }

    #[test]
    fn malformed_cursors_are_invalid_input() {
        let long = "A".repeat(MAX_CURSOR_LEN + 1);
        let not_json = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("[\"actions\",");
        let wrong_key = encode("actions", &"text");
        for bad in ["%%%", "", "e30", long.as_str(), not_json.as_str(), wrong_key.as_str()] {
            let e = decode::<i64>("actions", bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Invalid, "{bad}");
        }
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
    fn a_page_has_a_cursor_only_when_rows_follow() {
        let page = CursorPage::from_rows(vec![9, 8, 7], 2, "s", |r| *r);
        assert_eq!(page.items, vec![9, 8]);
        assert_eq!(decode::<i32>("s", page.next_cursor.as_deref().unwrap()).unwrap(), 8);
        let last = CursorPage::from_rows(vec![9, 8], 2, "s", |r| *r);
        assert_eq!(last.next_cursor, None);
    }
}
