//! The offline buffer: a bounded on-disk queue of messages that could not be
//! sent, surviving a restart.
//!
//! Each message is one file `<sequence>.msg` (JSON: its topics, its text
//! and its whole idempotency key) in the buffer's directory, written
//! atomically: a temporary file is written and synced, renamed into place,
//! and the directory is synced. Files are read back in sequence order. An
//! entry is deleted only after the server's success reply (see
//! [`DeviceClient::flush_buffer`](super::DeviceClient::flush_buffer)).
//!
//! Message data is private: on Unix the directory is made `0700` and every
//! file in it is created `0600`, whatever the umask. An entry that cannot
//! be read (not JSON, or an I/O error such as a directory in its place) is
//! set aside as `<sequence>.corrupt` and skipped, so one bad entry never
//! stops the others or new messages.
//!
//! The methods do blocking file I/O; the async client calls them on tokio's
//! blocking pool.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
#[cfg(unix)]
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use thingstead_proto::device::IdempotencyKey;

use serde::{Deserialize, Serialize};

/// What happens when a message arrives and the buffer is full.
///
/// ```
/// use thingstead::device::FullPolicy;
/// assert_eq!(FullPolicy::default(), FullPolicy::DropOldest);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FullPolicy {
    /// Delete the oldest buffered message to make room (counted in
    /// [`OfflineBuffer::dropped`] and logged as a warning).
    #[default]
    DropOldest,
    /// Refuse the new message with [`BufferError::Full`].
    Reject,
}

/// A message waiting in the buffer.
///
/// ```
/// let m = thingstead::device::BufferedMessage { topics: vec!["t".into()], data: "hi".into() };
/// assert_eq!(m.data, "hi");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BufferedMessage {
    /// Its topics.
    pub topics: Vec<String>,
    /// Its text.
    pub data: String,
}

/// The position of an entry in the buffer; later entries have larger ids.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// use thingstead::device::{BufferedMessage, FullPolicy, OfflineBuffer};
/// let mut buf = OfflineBuffer::open(dir.path(), 10, FullPolicy::Reject).unwrap();
/// let a = buf.push(&BufferedMessage { topics: vec![], data: "a".into() }).unwrap();
/// let b = buf.push(&BufferedMessage { topics: vec![], data: "b".into() }).unwrap();
/// assert!(a < b);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryId(u64);

/// Why the buffer refused or failed.
///
/// ```
/// use thingstead::device::BufferError;
/// assert!(BufferError::Full { max: 3 }.to_string().contains('3'));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BufferError {
    /// The buffer is full and its policy is [`FullPolicy::Reject`].
    #[error("the offline buffer is full ({max} messages)")]
    Full {
        /// Its capacity.
        max: usize,
    },
    /// A capacity of 0.
    #[error("the offline buffer needs a capacity of at least 1")]
    ZeroCapacity,
    /// A file operation failed.
    #[error("offline buffer {path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

const SUFFIX: &str = ".msg";
const TEMP_SUFFIX: &str = ".tmp";
const CORRUPT_SUFFIX: &str = ".corrupt";
/// The file holding the buffer's instance name.
const INSTANCE_FILE: &str = "instance";
/// The mode of every file in the buffer (message data is private).
#[cfg(unix)]
const FILE_MODE: u32 = 0o600;
/// The mode of the buffer's directory.
#[cfg(unix)]
const DIR_MODE: u32 = 0o700;

/// An entry as stored: the message and the idempotency key it is always
/// sent with. Entries written before keys were stored have none; theirs is
/// derived from the instance name, as it was then.
#[derive(Serialize, Deserialize)]
struct StoredEntry {
    #[serde(flatten)]
    message: BufferedMessage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<String>,
}

/// Creates `path` for writing, new, with the buffer's private file mode.
fn create_private(path: &Path) -> Result<File, BufferError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(FILE_MODE);
    options.open(path).map_err(io_err(path))
}

/// Creates the buffer's directory if needed and makes it private.
fn create_private_dir(dir: &Path) -> Result<(), BufferError> {
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    #[cfg(unix)]
    fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE)).map_err(io_err(dir))?;
    Ok(())
}

/// A bounded on-disk queue of messages.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// use thingstead::device::{BufferedMessage, FullPolicy, OfflineBuffer};
/// let msg = BufferedMessage { topics: vec!["t".into()], data: "hello".into() };
/// {
///     let mut buf = OfflineBuffer::open(dir.path(), 100, FullPolicy::DropOldest).unwrap();
///     buf.push(&msg).unwrap();
/// }
/// // After a restart the message is still there.
/// let mut buf = OfflineBuffer::open(dir.path(), 100, FullPolicy::DropOldest).unwrap();
/// let (id, read) = buf.front().unwrap().unwrap();
/// assert_eq!(read, msg);
/// buf.remove(id).unwrap();
/// assert!(buf.is_empty());
/// ```
#[derive(Debug)]
pub struct OfflineBuffer {
    dir: PathBuf,
    /// Random name of this buffer's current run of sequence numbers; with a
    /// sequence number it makes each entry's idempotency key.
    instance: String,
    max: usize,
    policy: FullPolicy,
    entries: VecDeque<u64>,
    /// The stored key of the entry [`OfflineBuffer::front`] last returned.
    front_key: Option<(u64, IdempotencyKey)>,
    next_seq: u64,
    dropped: u64,
}

/// Picks and persists (temp file, fsync, rename) a new random instance name.
fn new_instance(dir: &Path) -> Result<String, BufferError> {
    let name = uuid::Uuid::new_v4().simple().to_string();
    let tmp = dir.join(format!("{INSTANCE_FILE}{TEMP_SUFFIX}"));
    let path = dir.join(INSTANCE_FILE);
    match fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io_err(&tmp)(e)),
        _ => {}
    }
    let mut file = create_private(&tmp)?;
    file.write_all(name.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io_err(&tmp))?;
    fs::rename(&tmp, &path).map_err(io_err(&path))?;
    Ok(name)
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> BufferError + '_ {
    move |source| BufferError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl OfflineBuffer {
    /// Opens (creating it if needed) the buffer in `dir`, holding at most
    /// `max` messages. Leftover temporary files of an interrupted write are
    /// removed; entries are kept even if more than `max` are there.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// use thingstead::device::{FullPolicy, OfflineBuffer};
    /// assert!(OfflineBuffer::open(dir.path(), 0, FullPolicy::Reject).is_err());
    /// ```
    pub fn open(dir: impl Into<PathBuf>, max: usize, policy: FullPolicy) -> Result<Self, BufferError> {
        if max == 0 {
            return Err(BufferError::ZeroCapacity);
        }
        let dir = dir.into();
        create_private_dir(&dir)?;
        let mut seqs = Vec::new();
        for entry in fs::read_dir(&dir).map_err(io_err(&dir))? {
            let entry = entry.map_err(io_err(&dir))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.ends_with(TEMP_SUFFIX) {
                let path = entry.path();
                fs::remove_file(&path).map_err(io_err(&path))?;
            } else if let Some(seq) = name.strip_suffix(SUFFIX).and_then(|s| s.parse::<u64>().ok()) {
                seqs.push(seq);
            }
        }
        seqs.sort_unstable();
        let next_seq = seqs.last().map_or(0, |s| s + 1);
        // Sequence numbers restart only when the buffer opens empty; a new
        // instance name then keeps every idempotency key unique forever.
        let instance = match fs::read_to_string(dir.join(INSTANCE_FILE)) {
            Ok(name) if !seqs.is_empty() && IdempotencyKey::parse(name.trim()).is_ok() => name.trim().to_owned(),
            _ => new_instance(&dir)?,
        };
        Ok(Self {
            dir,
            instance,
            max,
            policy,
            entries: seqs.into(),
            front_key: None,
            next_seq,
            dropped: 0,
        })
    }

    /// The idempotency key of an entry: unique across restarts, and the
    /// same every time that entry is sent, so the server stores it once.
    /// It is stored in the entry itself, so no other file can change it.
    pub fn idempotency_key(&self, id: EntryId) -> IdempotencyKey {
        match &self.front_key {
            Some((seq, key)) if *seq == id.0 => key.clone(),
            _ => self.derived_key(id.0),
        }
    }

    /// The key of sequence number `seq` in this instance.
    fn derived_key(&self, seq: u64) -> IdempotencyKey {
        let id = EntryId(seq);
        IdempotencyKey::parse(&format!("{}-{}", self.instance, id.0))
            .unwrap_or_else(|_| unreachable!("32 hex digits, '-', and at most 20 digits form a valid key"))
    }

    fn path(&self, seq: u64) -> PathBuf {
        self.dir.join(format!("{seq:020}{SUFFIX}"))
    }

    fn sync_dir(&self) -> Result<(), BufferError> {
        #[cfg(unix)]
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(&self.dir))?;
        Ok(())
    }

    /// Appends a message durably. When full, applies the [`FullPolicy`].
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// use thingstead::device::{BufferError, BufferedMessage, FullPolicy, OfflineBuffer};
    /// let mut buf = OfflineBuffer::open(dir.path(), 1, FullPolicy::Reject).unwrap();
    /// let m = BufferedMessage { topics: vec![], data: "x".into() };
    /// buf.push(&m).unwrap();
    /// assert!(matches!(buf.push(&m), Err(BufferError::Full { max: 1 })));
    /// ```
    pub fn push(&mut self, message: &BufferedMessage) -> Result<EntryId, BufferError> {
        while self.entries.len() >= self.max {
            match self.policy {
                FullPolicy::Reject => return Err(BufferError::Full { max: self.max }),
                FullPolicy::DropOldest => {
                    let Some(&oldest) = self.entries.front() else { break };
                    self.delete(oldest)?;
                    self.dropped += 1;
                    tracing::warn!(
                        dropped = self.dropped,
                        "offline buffer full: dropped the oldest message"
                    );
                }
            }
        }
        let seq = self.next_seq;
        let stored = StoredEntry {
            message: message.clone(),
            key: Some(self.derived_key(seq).as_str().to_owned()),
        };
        let body = serde_json::to_vec(&stored).map_err(|e| BufferError::Io {
            path: self.dir.display().to_string(),
            source: std::io::Error::other(e),
        })?;
        let temp = self.dir.join(format!("{seq:020}{TEMP_SUFFIX}"));
        // A failed earlier attempt may have left it.
        match fs::remove_file(&temp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io_err(&temp)(e)),
            _ => {}
        }
        let mut file = create_private(&temp)?;
        file.write_all(&body)
            .and_then(|()| file.sync_all())
            .map_err(io_err(&temp))?;
        drop(file);
        let path = self.path(seq);
        fs::rename(&temp, &path).map_err(io_err(&path))?;
        self.sync_dir()?;
        self.next_seq += 1;
        self.entries.push_back(seq);
        Ok(EntryId(seq))
    }

    /// The oldest readable entry. An unreadable entry (not valid JSON, or
    /// an I/O error reading it) is renamed to `<sequence>.corrupt`, logged,
    /// and skipped; if even the rename fails, it is skipped until the
    /// buffer is opened again.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// use thingstead::device::{FullPolicy, OfflineBuffer};
    /// let mut buf = OfflineBuffer::open(dir.path(), 5, FullPolicy::Reject).unwrap();
    /// assert!(buf.front().unwrap().is_none());
    /// ```
    pub fn front(&mut self) -> Result<Option<(EntryId, BufferedMessage)>, BufferError> {
        while let Some(&seq) = self.entries.front() {
            let path = self.path(seq);
            let bytes = match fs::read(&path) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    // Deleted behind our back: nothing to send.
                    self.entries.pop_front();
                    continue;
                }
                Err(e) => {
                    self.set_aside(seq, &e);
                    continue;
                }
            };
            match serde_json::from_slice::<StoredEntry>(&bytes) {
                Ok(entry) => {
                    match entry.key.as_deref().map(IdempotencyKey::parse) {
                        Some(Ok(key)) => self.front_key = Some((seq, key)),
                        Some(Err(e)) => {
                            self.set_aside(seq, &e);
                            continue;
                        }
                        None => self.front_key = None,
                    }
                    return Ok(Some((EntryId(seq), entry.message)));
                }
                Err(e) => self.set_aside(seq, &e),
            }
        }
        Ok(None)
    }

    /// Renames the unreadable front entry `seq` to `<sequence>.corrupt` and
    /// drops it from the queue; if the rename fails too, only the latter.
    fn set_aside(&mut self, seq: u64, error: &dyn std::fmt::Display) {
        let path = self.path(seq);
        let aside = self.dir.join(format!("{seq:020}{CORRUPT_SUFFIX}"));
        match fs::rename(&path, &aside) {
            Ok(()) => tracing::warn!(file = %path.display(), %error, "unreadable buffered message set aside"),
            Err(rename) => tracing::warn!(
                file = %path.display(),
                %error,
                %rename,
                "unreadable buffered message skipped (it could not be set aside)"
            ),
        }
        self.entries.pop_front();
    }

    /// Deletes an entry (after the server accepted it).
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// use thingstead::device::{BufferedMessage, FullPolicy, OfflineBuffer};
    /// let mut buf = OfflineBuffer::open(dir.path(), 5, FullPolicy::Reject).unwrap();
    /// let id = buf.push(&BufferedMessage { topics: vec![], data: "x".into() }).unwrap();
    /// buf.remove(id).unwrap();
    /// assert_eq!(buf.len(), 0);
    /// ```
    pub fn remove(&mut self, id: EntryId) -> Result<(), BufferError> {
        self.delete(id.0)
    }

    fn delete(&mut self, seq: u64) -> Result<(), BufferError> {
        let path = self.path(seq);
        match fs::remove_file(&path) {
            Ok(()) => self.sync_dir()?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            // Not a file we can delete (a directory in its place, a
            // permission taken away): it leaves the queue all the same, so
            // it cannot block the others. Should it be read again after a
            // restart, its stored key keeps the server from storing it twice.
            Err(e) => tracing::warn!(file = %path.display(), error = %e, "a buffered entry could not be deleted"),
        }
        self.entries.retain(|s| *s != seq);
        Ok(())
    }

    /// How many messages are waiting.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let buf = thingstead::device::OfflineBuffer::open(dir.path(), 5, Default::default()).unwrap();
    /// assert_eq!(buf.len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no message is waiting.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// assert!(thingstead::device::OfflineBuffer::open(dir.path(), 5, Default::default()).unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The capacity.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// assert_eq!(thingstead::device::OfflineBuffer::open(dir.path(), 5, Default::default()).unwrap().capacity(), 5);
    /// ```
    pub fn capacity(&self) -> usize {
        self.max
    }

    /// How many messages [`FullPolicy::DropOldest`] dropped since opening.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// assert_eq!(thingstead::device::OfflineBuffer::open(dir.path(), 5, Default::default()).unwrap().dropped(), 0);
    /// ```
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The buffer's directory.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let buf = thingstead::device::OfflineBuffer::open(dir.path(), 5, Default::default()).unwrap();
    /// assert_eq!(buf.dir(), dir.path());
    /// ```
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(data: &str) -> BufferedMessage {
        BufferedMessage {
            topics: vec!["a".into(), "ü".into()],
            data: data.into(),
        }
    }

    fn drain(buf: &mut OfflineBuffer) -> Vec<String> {
        let mut out = Vec::new();
        while let Some((id, m)) = buf.front().unwrap() {
            out.push(m.data);
            buf.remove(id).unwrap();
        }
        out
    }

    #[test]
    fn order_survives_reopen_and_sequence_continues() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut buf = OfflineBuffer::open(dir.path(), 10, FullPolicy::Reject).unwrap();
            for i in 0..3 {
                buf.push(&msg(&format!("m{i}"))).unwrap();
            }
        }
        let mut buf = OfflineBuffer::open(dir.path(), 10, FullPolicy::Reject).unwrap();
        assert_eq!(buf.len(), 3);
        buf.push(&msg("m3")).unwrap();
        assert_eq!(drain(&mut buf), ["m0", "m1", "m2", "m3"]);
        let left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            left,
            [INSTANCE_FILE],
            "only the instance name stays once every message is sent"
        );
    }

    #[test]
    fn drop_oldest_keeps_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let mut buf = OfflineBuffer::open(dir.path(), 2, FullPolicy::DropOldest).unwrap();
        for i in 0..5 {
            buf.push(&msg(&format!("m{i}"))).unwrap();
        }
        assert_eq!(buf.dropped(), 3);
        assert_eq!(drain(&mut buf), ["m3", "m4"]);
    }

    #[test]
    fn reject_keeps_the_oldest() {
        let dir = tempfile::tempdir().unwrap();
        let mut buf = OfflineBuffer::open(dir.path(), 2, FullPolicy::Reject).unwrap();
        buf.push(&msg("m0")).unwrap();
        buf.push(&msg("m1")).unwrap();
        assert!(matches!(buf.push(&msg("m2")), Err(BufferError::Full { max: 2 })));
        assert_eq!(drain(&mut buf), ["m0", "m1"]);
    }

    #[test]
    fn interrupted_writes_and_corrupt_files_are_handled() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(format!("{:020}{TEMP_SUFFIX}", 7)), b"half").unwrap();
        fs::write(dir.path().join(format!("{:020}{SUFFIX}", 3)), b"{not json").unwrap();
        fs::write(dir.path().join("README"), b"ignored").unwrap();
        let mut buf = OfflineBuffer::open(dir.path(), 10, FullPolicy::Reject).unwrap();
        assert!(!dir.path().join(format!("{:020}{TEMP_SUFFIX}", 7)).exists());
        buf.push(&msg("ok")).unwrap();
        assert_eq!(drain(&mut buf), ["ok"]);
        assert!(dir.path().join(format!("{:020}{CORRUPT_SUFFIX}", 3)).exists());
    }

    #[test]
    fn unicode_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let mut buf = OfflineBuffer::open(dir.path(), 10, FullPolicy::Reject).unwrap();
        let m = BufferedMessage {
            topics: vec!["température".into()],
            data: "héllo \u{1F600}\n\"q\"".into(),
        };
        buf.push(&m).unwrap();
        assert_eq!(buf.front().unwrap().unwrap().1, m);
    }
}

#[cfg(test)]
mod robustness_tests {
    use super::*;

    fn msg(data: &str) -> BufferedMessage {
        BufferedMessage {
            topics: vec![],
            data: data.into(),
        }
    }

    #[test]
    fn an_entry_that_fails_with_an_io_error_is_set_aside_and_the_rest_flow() {
        let dir = tempfile::tempdir().unwrap();
        let mut buf = OfflineBuffer::open(dir.path(), 10, FullPolicy::Reject).unwrap();
        let a = buf.push(&msg("a")).unwrap();
        buf.push(&msg("b")).unwrap();
        // Reading a directory fails with an I/O error, not a parse error.
        let path = buf.path(a.0);
        fs::remove_file(&path).unwrap();
        fs::create_dir(&path).unwrap();
        let (front, m) = buf.front().unwrap().expect("the next entry");
        assert_eq!(m.data, "b");
        buf.remove(front).unwrap();
        buf.push(&msg("c")).expect("new messages are still buffered");
        assert_eq!(buf.front().unwrap().unwrap().1.data, "c");
        assert!(dir.path().join(format!("{:020}{CORRUPT_SUFFIX}", a.0)).exists());
    }

    #[test]
    fn a_full_drop_oldest_buffer_drops_an_undeletable_entry() {
        let dir = tempfile::tempdir().unwrap();
        let mut buf = OfflineBuffer::open(dir.path(), 1, FullPolicy::DropOldest).unwrap();
        let a = buf.push(&msg("a")).unwrap();
        let path = buf.path(a.0);
        fs::remove_file(&path).unwrap();
        fs::create_dir(&path).unwrap();
        buf.push(&msg("b")).expect("room is made");
        assert_eq!(buf.front().unwrap().unwrap().1.data, "b");
    }

    #[test]
    fn each_entry_keeps_its_key_when_the_instance_file_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let mut buf = OfflineBuffer::open(dir.path(), 10, FullPolicy::Reject).unwrap();
        let a = buf.push(&msg("a")).unwrap();
        let b = buf.push(&msg("b")).unwrap();
        let (key_a, key_b) = (buf.idempotency_key(a), buf.idempotency_key(b));
        drop(buf);
        fs::remove_file(dir.path().join(INSTANCE_FILE)).unwrap();
        let mut buf = OfflineBuffer::open(dir.path(), 10, FullPolicy::Reject).unwrap();
        let (front, _) = buf.front().unwrap().unwrap();
        assert_eq!(buf.idempotency_key(front), key_a);
        buf.remove(front).unwrap();
        let (front, _) = buf.front().unwrap().unwrap();
        assert_eq!(buf.idempotency_key(front), key_b);
        buf.remove(front).unwrap();
        let c = buf.push(&msg("c")).unwrap();
        let key_c = buf.idempotency_key(c);
        assert!(key_c != key_a && key_c != key_b, "new entries never reuse a key");
    }

    #[test]
    fn entries_written_without_a_stored_key_keep_the_derived_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut buf = OfflineBuffer::open(dir.path(), 10, FullPolicy::Reject).unwrap();
        let a = buf.push(&msg("a")).unwrap();
        let derived = buf.idempotency_key(a);
        // The format of earlier releases: the message only.
        fs::write(buf.path(a.0), serde_json::to_vec(&msg("a")).unwrap()).unwrap();
        drop(buf);
        let mut buf = OfflineBuffer::open(dir.path(), 10, FullPolicy::Reject).unwrap();
        let (front, m) = buf.front().unwrap().unwrap();
        assert_eq!((m.data.as_str(), buf.idempotency_key(front)), ("a", derived));
    }

    #[cfg(unix)]
    #[test]
    fn files_are_private_whatever_the_umask() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("buffer");
        fs::create_dir(&root).unwrap();
        fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
        let mut buf = OfflineBuffer::open(&root, 10, FullPolicy::Reject).unwrap();
        let a = buf.push(&msg("secret")).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&root), 0o700);
        assert_eq!(mode(&buf.path(a.0)), 0o600);
        assert_eq!(mode(&root.join(INSTANCE_FILE)), 0o600);
    }
}

#[cfg(test)]
mod idempotency_tests {
    use super::*;

    fn msg(data: &str) -> BufferedMessage {
        BufferedMessage {
            topics: vec![],
            data: data.into(),
        }
    }

    #[test]
    fn keys_survive_a_reopen_and_never_repeat_after_the_buffer_empties() {
        let dir = tempfile::tempdir().unwrap();
        let mut buf = OfflineBuffer::open(dir.path(), 10, FullPolicy::Reject).unwrap();
        let a = buf.push(&msg("a")).unwrap();
        let key_a = buf.idempotency_key(a);
        drop(buf);
        let mut buf = OfflineBuffer::open(dir.path(), 10, FullPolicy::Reject).unwrap();
        let (front, _) = buf.front().unwrap().unwrap();
        assert_eq!(
            buf.idempotency_key(front),
            key_a,
            "the same entry keeps its key across restarts"
        );
        buf.remove(front).unwrap();
        drop(buf);
        // Empty at open: sequence numbers restart, so the instance name changes.
        let mut buf = OfflineBuffer::open(dir.path(), 10, FullPolicy::Reject).unwrap();
        let b = buf.push(&msg("b")).unwrap();
        assert_ne!(buf.idempotency_key(b), key_a);
    }
}
