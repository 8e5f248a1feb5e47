//! A token's standing (is it revoked, does its client still exist, in
//! which organization, with which scopes) remembered between requests,
//! and the epoch that says when to forget it.
//!
//! Every request of the things face asks for its token's standing. Read
//! from `thingstead.db`, that costs a read transaction whose page cache
//! every commit empties (WAL), so the few pages it touches are read again
//! on every request: about a tenth of a property write's CPU. What the
//! standing is made of changes rarely (a revocation, a client or an
//! organization deleted), so the answer is remembered, tagged with the
//! *standing epoch* read just before it.
//!
//! The epoch is one counter in a database file of its own
//! ([`EPOCH_FILE`], attached to every connection as `standing`), bumped
//! by TEMP triggers on every change of `token_revocations`,
//! `oauth_clients` and the names and rows of `orgs`, in the transaction of
//! the change. Nothing else writes that file, so reading the counter keeps
//! its page cache warm and costs far less than the standing itself. A
//! remembered standing is used only while the counter still holds the
//! value it was tagged with, so every connection to the data dir, of this
//! process or another (another node of the store suite, the admin CLI),
//! sees a change as soon as it is committed, as it did when every request
//! read the standing itself:
//!
//! - SQLite commits the attached files of one transaction in order, main
//!   first, so a reader that sees the new epoch sees the change too;
//! - the epoch is read before the standing, so a standing is never tagged
//!   with an epoch newer than itself;
//! - a change's caller hears "done" only after both files committed, and
//!   from then on every read of the epoch differs from the tags of all
//!   that was remembered before it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension};

use super::errors::backend;
use crate::store::{OAuthClientCredentials, StoreError};

/// The epoch's database file, beside [`super::DB_FILE`].
pub(super) const EPOCH_FILE: &str = "standing.db";

/// Most standings remembered; when full, the stale ones go, then all.
const CAPACITY: usize = 16 * 1024;

/// One token's standing: revoked, and its client (none when deleted).
pub(super) type Standing = (bool, Option<OAuthClientCredentials>);

/// The changes that bump the epoch, each a trigger's name and event.
/// The triggers are TEMP, because only TEMP triggers may write another
/// attached database, so every connection gets them. (A trigger's
/// statements may not name a table's database: the table's name,
/// `standing_epoch`, is one no other database has.)
const BUMPS: [(&str, &str); 8] = [
    ("revocation_in", "INSERT ON main.token_revocations"),
    ("revocation_out", "DELETE ON main.token_revocations"),
    ("revocation_set", "UPDATE ON main.token_revocations"),
    ("client_in", "INSERT ON main.oauth_clients"),
    ("client_out", "DELETE ON main.oauth_clients"),
    ("client_set", "UPDATE ON main.oauth_clients"),
    ("org_out", "DELETE ON main.orgs"),
    ("org_renamed", "UPDATE OF id, name ON main.orgs"),
];

/// The statements that create the [`BUMPS`] triggers.
fn triggers() -> String {
    BUMPS
        .iter()
        .map(|(name, event)| {
            format!(
                "CREATE TEMP TRIGGER IF NOT EXISTS standing_{name} AFTER {event} \
                 BEGIN UPDATE standing_epoch SET n = n + 1; END;"
            )
        })
        .collect()
}

/// Attaches the epoch file to `conn` and gives it the triggers. With
/// `create`, makes the file's table and its one row first (the writer
/// connection, opened before the readers); the counter starts at a random
/// value, so a file made anew never repeats a value remembered from the
/// one before it.
pub(super) fn attach(conn: &Connection, file: &Path, create: bool) -> Result<(), StoreError> {
    let name = file
        .to_str()
        .ok_or_else(|| StoreError::Unavailable(format!("{}: not UTF-8", file.display())))?;
    conn.execute("ATTACH DATABASE ?1 AS standing", [name])
        .map_err(|e| StoreError::Unavailable(format!("{}: {e}", file.display())))?;
    if create {
        conn.pragma_update(Some("standing"), "journal_mode", "WAL")
            .map_err(backend)?;
        conn.pragma_update(Some("standing"), "synchronous", "FULL")
            .map_err(backend)?;
        let start = (rand::random::<u64>() >> 2) as i64;
        conn.execute_batch("CREATE TABLE IF NOT EXISTS standing.standing_epoch (one INTEGER PRIMARY KEY CHECK (one = 1), n INTEGER NOT NULL)")
            .map_err(backend)?;
        // The row is made at a random value, or bumped: a store opening is
        // a fine moment for every other connection to forget what it
        // remembered, and the write leaves the file's WAL with a frame, so
        // a reader learns the file's size from the WAL instead of asking
        // the OS (an fstat) at each read.
        conn.execute(
            "INSERT INTO standing.standing_epoch (one, n) VALUES (1, ?1) ON CONFLICT (one) DO UPDATE SET n = n + 1",
            [start],
        )
        .map_err(backend)?;
    }
    conn.execute_batch(&triggers()).map_err(backend)
}

/// The current epoch, as `conn` sees it now.
pub(super) fn epoch(conn: &Connection) -> Result<i64, StoreError> {
    conn.prepare_cached("SELECT n FROM standing.standing_epoch WHERE one = 1")
        .and_then(|mut s| s.query_row([], |r| r.get(0)).optional())
        .map_err(backend)?
        .ok_or_else(|| StoreError::Backend(format!("{EPOCH_FILE} has no epoch row")))
}

/// Standings remembered by token, each with the epoch read before it.
#[derive(Default)]
pub(super) struct Standings {
    /// By the token's `jti` (its client's id for a token without one).
    entries: Mutex<HashMap<String, Remembered>>,
}

struct Remembered {
    client_id: String,
    by_jti: bool,
    epoch: i64,
    standing: Standing,
}

impl Remembered {
    fn is_of(&self, jti: Option<&str>, client_id: &str) -> bool {
        self.by_jti == jti.is_some() && self.client_id == client_id
    }
}

impl Standings {
    /// The standing of the token `jti` of `client_id`, if it was read at
    /// `epoch`.
    pub(super) fn get(&self, jti: Option<&str>, client_id: &str, epoch: i64) -> Option<Standing> {
        let entries = self.entries.lock().ok()?;
        let known = entries.get(jti.unwrap_or(client_id))?;
        (known.epoch == epoch && known.is_of(jti, client_id)).then(|| known.standing.clone())
    }

    /// Remembers `standing`, read after the epoch was `epoch`.
    pub(super) fn put(&self, jti: Option<&str>, client_id: &str, epoch: i64, standing: Standing) {
        let Ok(mut entries) = self.entries.lock() else { return };
        let key = jti.unwrap_or(client_id);
        if entries.len() >= CAPACITY && !entries.contains_key(key) {
            entries.retain(|_, known| known.epoch == epoch);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        let known = Remembered {
            client_id: client_id.to_owned(),
            by_jti: jti.is_some(),
            epoch,
            standing,
        };
        entries.insert(key.to_owned(), known);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_standing_is_used_only_at_its_epoch() {
        let s = Standings::default();
        s.put(Some("j"), "c", 7, (false, None));
        assert_eq!(s.get(Some("j"), "c", 7).map(|x| x.0), Some(false));
        assert!(s.get(Some("j"), "c", 8).is_none());
        assert!(s.get(Some("j"), "d", 7).is_none());
        assert!(s.get(None, "c", 7).is_none());
        assert!(s.get(Some("k"), "c", 7).is_none());
        // A client's id and a token's jti never stand for each other.
        s.put(None, "c", 7, (true, None));
        assert!(s.get(Some("c"), "c", 7).is_none());
        assert_eq!(s.get(None, "c", 7).map(|x| x.0), Some(true));
    }

    #[test]
    fn a_full_memory_keeps_the_current_epoch_then_starts_over() {
        let s = Standings::default();
        for i in 0..CAPACITY {
            s.put(Some(&i.to_string()), "c", (i % 2) as i64, (false, None));
        }
        s.put(Some("new"), "c", 1, (true, None));
        let n = s.entries.lock().unwrap().len();
        assert_eq!(n, CAPACITY / 2 + 1);
        assert!(s.get(Some("1"), "c", 1).is_some());
        assert!(s.get(Some("0"), "c", 0).is_none());
    }

    #[test]
    fn the_triggers_bump_the_epoch_on_every_change_of_a_standing() {
        let dir = tempfile::tempdir().unwrap();
        let c = Connection::open(dir.path().join("main.db")).unwrap();
        c.execute_batch(
            "CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT, message_retention_secs INTEGER);
             CREATE TABLE oauth_clients (client_id TEXT PRIMARY KEY, org_id INTEGER, scopes TEXT);
             CREATE TABLE token_revocations (jti TEXT PRIMARY KEY, org_id INTEGER);",
        )
        .unwrap();
        attach(&c, &dir.path().join(EPOCH_FILE), true).unwrap();
        let mut last = epoch(&c).unwrap();
        let mut bumped = |sql: &str| {
            c.execute_batch(sql).unwrap();
            let now = epoch(&c).unwrap();
            let moved = now != last;
            last = now;
            moved
        };
        assert!(!bumped("INSERT INTO orgs (id, name) VALUES (1, 'acme')"));
        assert!(bumped("INSERT INTO oauth_clients VALUES ('c', 1, '[]')"));
        assert!(bumped("UPDATE oauth_clients SET scopes = '[\"thing\"]'"));
        assert!(bumped("INSERT INTO token_revocations VALUES ('j', 1)"));
        assert!(!bumped("UPDATE orgs SET message_retention_secs = 5"));
        assert!(bumped("UPDATE orgs SET name = 'acme2'"));
        assert!(bumped("DELETE FROM token_revocations"));
        assert!(bumped("DELETE FROM oauth_clients"));
        assert!(bumped("DELETE FROM orgs"));
        assert!(!bumped("DELETE FROM orgs"));
        // A second connection reads the same counter.
        let other = Connection::open(dir.path().join("main.db")).unwrap();
        attach(&other, &dir.path().join(EPOCH_FILE), false).unwrap();
        assert_eq!(epoch(&other).unwrap(), last);
    }
}
