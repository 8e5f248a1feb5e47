//! One writer thread that group-commits, and a few reader connections.
//!
//! Every write is a closure run on the writer's connection inside its own
//! savepoint; the writer takes every write that is waiting (up to
//! [`MAX_BATCH`]) into one transaction, commits once, and only then answers
//! each caller. So a caller hears "done" only after the commit, and N
//! concurrent writers cost one fsync, not N. A failing write rolls back its
//! savepoint alone; a failing commit fails every write of the batch.

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rusqlite::Connection;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::errors::backend;
use crate::store::{StoreError, StoreStats};

/// The most writes one transaction takes.
const MAX_BATCH: usize = 1024;
/// Writes that may wait for the writer before callers are held back.
const QUEUE: usize = 8192;
/// How long a caller waits for room in the queue.
const QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
/// How long a caller waits for its write's commit once queued.
const COMMIT_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

type Output = Box<dyn Any + Send>;
type Op = Box<dyn FnOnce(&Connection) -> Result<Output, StoreError> + Send>;

struct Job {
    op: Op,
    reply: oneshot::Sender<Result<Output, StoreError>>,
}

#[derive(Default)]
struct Counters {
    writes: AtomicU64,
    commits: AtomicU64,
}

/// The writer thread and the reader pool of one SQLite database.
pub(crate) struct Pool {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    reader_permits: Arc<Semaphore>,
    counters: Arc<Counters>,
}

/// Runs `f` on a reader connection taken from `readers` (the caller holds
/// a permit, so one is there), and puts it back.
fn on_reader<T>(
    readers: &Mutex<Vec<Connection>>,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let conn = readers.lock().map_err(|_| closed())?.pop().ok_or_else(closed)?;
    let result = f(&conn);
    if let Ok(mut pool) = readers.lock() {
        pool.push(conn);
    }
    result
}

impl Pool {
    pub(crate) fn new(writer: Connection, readers: Vec<Connection>) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        let counters = Arc::new(Counters::default());
        let c = counters.clone();
        let handle = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || {
                super::writer_priority::raise_current_thread();
                run_writer(writer, rx, &c)
            })
            .ok();
        let permits = Arc::new(Semaphore::new(readers.len()));
        Self {
            jobs: Mutex::new(Some(tx)),
            writer: Mutex::new(handle),
            readers: Arc::new(Mutex::new(readers)),
            reader_permits: permits,
            counters,
        }
    }

    /// Runs `f` in the next group commit; returns after the commit.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let sender = self.jobs.lock().map_err(|_| closed())?.clone().ok_or_else(closed)?;
        let (reply, rx) = oneshot::channel();
        let op: Op = Box::new(move |c| f(c).map(|v| Box::new(v) as Output));
        tokio::time::timeout(QUEUE_WAIT, sender.send(Job { op, reply }))
            .await
            .map_err(|_| StoreError::Unavailable("the store is overloaded: writes queue too long".into()))?
            .map_err(|_| closed())?;
        // Not hearing back in time is a failure, never a success: the caller
        // is not told "stored" for a write that may still be pending.
        let out = tokio::time::timeout(COMMIT_WAIT, rx)
            .await
            .map_err(|_| StoreError::Unavailable("the store did not commit in time".into()))?
            .map_err(|_| closed())??;
        out.downcast::<T>()
            .map(|b| *b)
            .map_err(|_| StoreError::Backend("write returned the wrong type".into()))
    }

    /// Runs `f` on a reader connection.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let _permit = self
            .reader_permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| closed())?;
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || on_reader(&readers, f))
            .await
            .map_err(|e| StoreError::Backend(format!("reader task failed: {e}")))?
    }

    /// Runs `f`, a read of a few rows by key, on a reader connection on
    /// this very thread when one is free at once, else like
    /// [`Pool::read`]. For the reads every request makes (a token's
    /// standing): handing them to a blocking thread and back costs more
    /// CPU (two wake-ups, two context switches) than the read, which
    /// finds its pages in the cache and takes microseconds. Never for a
    /// read whose length depends on the data (a list, a range, a scan).
    pub(crate) async fn read_point<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let Ok(permit) = self.reader_permits.clone().try_acquire_owned() else {
            return self.read(f).await;
        };
        let result = on_reader(&self.readers, f);
        drop(permit);
        result
    }

    pub(crate) fn stats(&self) -> StoreStats {
        StoreStats {
            writes: self.counters.writes.load(Ordering::Relaxed),
            commits: self.counters.commits.load(Ordering::Relaxed),
        }
    }

    /// Lets the writer commit what is queued, then stops it and closes the readers.
    pub(crate) async fn close(&self) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        self.reader_permits.close();
        let handle = self.writer.lock().ok().and_then(|mut h| h.take());
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
        if let Ok(mut readers) = self.readers.lock() {
            readers.clear();
        }
    }
}

fn closed() -> StoreError {
    StoreError::Unavailable("the store is closed".into())
}

fn run_writer(conn: Connection, mut rx: mpsc::Receiver<Job>, counters: &Counters) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&conn, &mut batch, counters);
    }
    // Channel closed and drained: checkpoint the WAL so the file is whole on its own.
    if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
        tracing::warn!(error = %e, "WAL checkpoint at close failed");
    }
}

fn commit_batch(conn: &Connection, batch: &mut Vec<Job>, counters: &Counters) {
    let started = Instant::now();
    if let Err(err) = exec(conn, "BEGIN IMMEDIATE") {
        for job in batch.drain(..) {
            let _ = job.reply.send(Err(clone_err(&err)));
        }
        return;
    }
    let mut results = Vec::with_capacity(batch.len());
    for job in batch.drain(..) {
        let result = run_in_savepoint(conn, job.op);
        results.push((job.reply, result));
    }
    let n = results.len() as u64;
    match exec(conn, "COMMIT") {
        Ok(()) => {
            counters.commits.fetch_add(1, Ordering::Relaxed);
            counters.writes.fetch_add(n, Ordering::Relaxed);
            metrics::counter!("thingstead_store_commits_total").increment(1);
            metrics::counter!("thingstead_store_writes_total").increment(n);
            metrics::histogram!("thingstead_store_commit_seconds").record(started.elapsed().as_secs_f64());
            for (reply, result) in results {
                let _ = reply.send(result);
            }
        }
        Err(err) => {
            tracing::error!(error = %err, writes = n, "store commit failed");
            let _ = conn.execute_batch("ROLLBACK");
            for (reply, _) in results {
                let _ = reply.send(Err(clone_err(&err)));
            }
        }
    }
}

/// Runs a prepared (cached) statement: the batch's fixed statements are
/// parsed once per connection, not once per write.
fn exec(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.execute([]))
        .map(|_| ())
        .map_err(backend)
}

fn run_in_savepoint(conn: &Connection, op: Op) -> Result<Output, StoreError> {
    exec(conn, "SAVEPOINT w")?;
    let result = op(conn);
    if result.is_err() {
        exec(conn, "ROLLBACK TO w")?;
    }
    exec(conn, "RELEASE w")?;
    result
}

fn clone_err(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        other => StoreError::Backend(other.to_string()),
    }
}
