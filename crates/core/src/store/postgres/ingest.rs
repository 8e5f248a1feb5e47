//! Group commit of device messages: one writer task takes every queued
//! message insert (up to [`MAX_BATCH`]) and stores them in one transaction
//! of a fixed number of statements (multi-row `INSERT ... SELECT FROM
//! UNNEST`), answering each caller only after COMMIT. N concurrent messages
//! cost one commit and three round trips (statements pipelined), not N.
//!
//! Inside a batch the semantics of one-at-a-time inserts hold: device keys
//! are resolved by their keyed hash in the same transaction; a message whose
//! idempotency key its device used before (in an earlier commit, on any
//! node, or earlier in the same batch) is not stored again and comes back
//! as the earlier one with `duplicate: true`; ids increase in queue order.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deadpool_postgres::Pool;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::Counters;
use super::errors::{self, backend, clone_err};
use super::messages::{COLS, row};
use super::registry::tenant_from;
use crate::ids::Tenant;
use crate::records::{MessageRecord, NewMessage, StoredMessage};
use crate::store::StoreError;

/// The most messages one transaction takes.
const MAX_BATCH: usize = 1024;
/// Messages that may wait for the writer before callers are held back.
const QUEUE: usize = 8192;
/// How long a caller waits for room in the queue.
const QUEUE_WAIT: Duration = Duration::from_secs(10);
/// How long a caller waits for its message's commit once queued.
const COMMIT_WAIT: Duration = Duration::from_secs(30);
/// How stale `last_seen_at` may get before a message from the same address refreshes it.
const LAST_SEEN_RESOLUTION_MS: i64 = 1000;

/// Whose message it is.
pub(crate) enum Target {
    /// A device of a known tenant.
    Device(Tenant, String),
    /// The device holding the device key with this keyed hash, if any.
    KeyHash(String),
}

/// What a caller hears: `None` when no device holds the key.
pub(crate) type Reply = Result<Option<(Tenant, StoredMessage)>, StoreError>;

struct Job {
    target: Target,
    message: NewMessage,
    reply: oneshot::Sender<Reply>,
}

/// The writer task of one store.
pub(crate) struct Ingest {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

fn closed() -> StoreError {
    StoreError::Unavailable("the store is closed".into())
}

impl Ingest {
    pub(crate) fn start(pool: Pool, counters: Arc<Counters>) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = tokio::spawn(run(pool, rx, counters));
        Self {
            jobs: Mutex::new(Some(tx)),
            task: Mutex::new(Some(task)),
        }
    }

    /// Queues a message for the next group commit; returns after the commit.
    pub(crate) async fn submit(&self, target: Target, message: NewMessage) -> Reply {
        let sender = self.jobs.lock().map_err(|_| closed())?.clone().ok_or_else(closed)?;
        let (reply, rx) = oneshot::channel();
        let job = Job { target, message, reply };
        tokio::time::timeout(QUEUE_WAIT, sender.send(job))
            .await
            .map_err(|_| StoreError::Unavailable("the store is overloaded: writes queue too long".into()))?
            .map_err(|_| closed())?;
        // Not hearing back in time is a failure, never a success.
        tokio::time::timeout(COMMIT_WAIT, rx)
            .await
            .map_err(|_| StoreError::Unavailable("the store did not commit in time".into()))?
            .map_err(|_| closed())?
    }

    /// Lets the writer commit what is queued, then stops it.
    pub(crate) async fn close(&self) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

async fn run(pool: Pool, mut rx: mpsc::Receiver<Job>, counters: Arc<Counters>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let n = batch.len() as u64;
        match write_batch(&pool, &batch).await {
            Ok(replies) => {
                counters.commits.fetch_add(1, Ordering::Relaxed);
                counters.writes.fetch_add(n, Ordering::Relaxed);
                metrics::counter!("thingstead_store_commits_total").increment(1);
                metrics::counter!("thingstead_store_writes_total").increment(n);
                metrics::histogram!("thingstead_store_commit_seconds").record(started.elapsed().as_secs_f64());
                for (job, reply) in batch.drain(..).zip(replies) {
                    let _ = job.reply.send(reply);
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, writes = n, "message batch not stored");
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(clone_err(&err)));
                }
            }
        }
    }
}

/// The address part of a peer (`ip:port` -> `ip`), which is what cloud-to-device pushes need.
fn peer_ip(peer: &str) -> &str {
    peer.parse::<std::net::SocketAddr>()
        .map_or(peer, |_| peer.rsplit_once(':').map_or(peer, |(ip, _)| ip))
}

/// What becomes of one job of the batch.
enum Plan {
    /// No device holds the key.
    Nobody,
    /// The device used this idempotency key in an earlier commit.
    Earlier(Tenant, MessageRecord),
    /// The same key came earlier in this batch: job `usize`'s message.
    SameBatch(Tenant, usize),
    /// Stored now, under this id.
    Insert(Tenant, String, i64),
}

/// An idempotency identity: org id, device uuid, key.
type IdemKey = (i64, String, String);

/// Device keys -> (tenant, device).
const BY_KEY_HASH: &str = "SELECT d.devicekey_hash, d.uuid, o.id, o.name FROM devices d JOIN orgs o ON o.id = d.org_id \
                           WHERE d.devicekey_hash = ANY($1)";
/// `$1` fresh message ids, increasing.
const NEXT_IDS: &str = "SELECT nextval(pg_get_serial_sequence('messages', 'id')) FROM generate_series(1, $1::int8)";
/// The multi-row insert. Rows whose key another node stored meanwhile are
/// skipped by ON CONFLICT; rows of a deleted organization are skipped too.
const INSERT: &str = "INSERT INTO messages (id, org_id, device_uuid, topics, payload, received_at, peer, sdk, modem, \
                      idempotency_key) \
                      SELECT u.id, u.org_id, u.device_uuid, ARRAY(SELECT jsonb_array_elements_text(u.topics::jsonb)), \
                      u.payload, u.received_at, u.peer, u.sdk, u.modem, u.k \
                      FROM UNNEST($1::int8[], $2::int8[], $3::text[], $4::text[], $5::bytea[], $6::int8[], $7::text[], \
                      $8::text[], $9::text[], $10::text[]) \
                      AS u(id, org_id, device_uuid, topics, payload, received_at, peer, sdk, modem, k) \
                      WHERE EXISTS (SELECT 1 FROM orgs o WHERE o.id = u.org_id) ORDER BY u.id \
                      ON CONFLICT (org_id, device_uuid, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING \
                      RETURNING id";
/// Last seen, once per device of the batch.
const LAST_SEEN: &str = "UPDATE devices d SET last_seen_addr = u.addr, last_seen_at = u.at \
                         FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::int8[]) AS u(org_id, uuid, addr, at) \
                         WHERE d.org_id = u.org_id AND d.uuid = u.uuid AND (d.last_seen_addr IS DISTINCT FROM u.addr \
                         OR d.last_seen_at IS NULL OR u.at - d.last_seen_at >= $5)";

/// Writes one batch on one pooled connection. On any failure the
/// transaction is rolled back before the connection goes back to the pool
/// (or the connection is dropped when even that fails).
async fn write_batch(pool: &Pool, jobs: &[Job]) -> Result<Vec<Reply>, StoreError> {
    let client = pool.get().await.map_err(errors::pool)?;
    match write_batch_on(&client, jobs).await {
        Ok(replies) => Ok(replies),
        Err(err) => {
            if client.batch_execute("ROLLBACK").await.is_err() {
                drop(deadpool_postgres::Object::take(client));
            }
            Err(err)
        }
    }
}

/// The batch as a transaction of three round trips, statements pipelined
/// (sent together, answered in order; tokio-postgres pipelines the
/// requests of futures polled together):
///
/// 1. `BEGIN`, the device keys, and an id for every job (ids a job does not
///    use, for an unknown key or a duplicate, are left as gaps, as a
///    rollback leaves them);
/// 2. (only when messages carry idempotency keys) the keys used before;
/// 3. the multi-row `INSERT`, the `last_seen` update and `COMMIT`. Every
///    answer is checked: if any statement failed, PostgreSQL turned the
///    `COMMIT` into a rollback, and the batch fails as a whole.
///
/// Callers hear "stored" only once `COMMIT` has answered.
async fn write_batch_on(client: &deadpool_postgres::Object, jobs: &[Job]) -> Result<Vec<Reply>, StoreError> {
    let hashes: Vec<&str> = jobs
        .iter()
        .filter_map(|j| match &j.target {
            Target::KeyHash(h) => Some(h.as_str()),
            Target::Device(..) => None,
        })
        .collect();
    let by_key = client.prepare_cached(BY_KEY_HASH).await.map_err(backend)?;
    let next_ids = client.prepare_cached(NEXT_IDS).await.map_err(backend)?;
    let insert = client.prepare_cached(INSERT).await.map_err(backend)?;
    let last_seen = client.prepare_cached(LAST_SEEN).await.map_err(backend)?;

    // Round trip 1.
    let batch_len = jobs.len() as i64;
    let (_, key_rows, id_rows) = tokio::try_join!(
        client.batch_execute("BEGIN"),
        async {
            if hashes.is_empty() {
                Ok(Vec::new())
            } else {
                client.query(&by_key, &[&hashes]).await
            }
        },
        async { client.query(&next_ids, &[&batch_len]).await },
    )
    .map_err(backend)?;
    let mut devices: HashMap<String, (Tenant, String)> = HashMap::new();
    for r in key_rows {
        devices.insert(r.get(0), (tenant_from(r.get(2), r.get::<_, &str>(3))?, r.get(1)));
    }
    let owners: Vec<Option<(Tenant, String)>> = jobs
        .iter()
        .map(|j| match &j.target {
            Target::Device(t, uuid) => Some((t.clone(), uuid.clone())),
            Target::KeyHash(h) => devices.get(h).cloned(),
        })
        .collect();

    // Round trip 2, only with idempotency keys: the keys used in earlier commits.
    let idem = |i: usize| -> Option<IdemKey> {
        let (t, uuid) = owners[i].as_ref()?;
        let key = jobs[i].message.idempotency_key.clone()?;
        Some((t.id(), uuid.clone(), key))
    };
    let keyed: Vec<IdemKey> = (0..jobs.len()).filter_map(idem).collect();
    let mut earlier = lookup_keys(client, &keyed).await?;

    // The plan, in queue order; ids for the new rows, increasing.
    let mut ids = id_rows.iter().map(|r| r.get::<_, i64>(0));
    let mut first_in_batch: HashMap<IdemKey, usize> = HashMap::new();
    let mut plans = Vec::with_capacity(jobs.len());
    for (i, owner) in owners.iter().enumerate() {
        let Some((tenant, uuid)) = owner else {
            plans.push(Plan::Nobody);
            continue;
        };
        if let Some(k) = idem(i) {
            if let Some(record) = earlier.get(&k) {
                plans.push(Plan::Earlier(tenant.clone(), record.clone()));
                continue;
            }
            if let Some(&first) = first_in_batch.get(&k) {
                plans.push(Plan::SameBatch(tenant.clone(), first));
                continue;
            }
            first_in_batch.insert(k, i);
        }
        let id = ids
            .next()
            .ok_or_else(|| StoreError::Backend("message id sequence ran short".into()))?;
        plans.push(Plan::Insert(tenant.clone(), uuid.clone(), id));
    }

    // The rows, and last seen: once per device, from its newest message of
    // the batch, in a fixed order so concurrent nodes never deadlock on
    // device rows. A message skipped as another node's duplicate still
    // means its device was seen.
    let mut cols = InsertColumns::default();
    let mut seen: HashMap<(i64, String), (String, i64)> = HashMap::new();
    for (plan, job) in plans.iter().zip(jobs) {
        if let Plan::Insert(t, uuid, id) = plan {
            cols.push(*id, t.id(), uuid, &job.message)?;
            seen.insert(
                (t.id(), uuid.clone()),
                (peer_ip(&job.message.peer).to_owned(), job.message.received_at),
            );
        }
    }
    let mut seen: Vec<_> = seen.into_iter().collect();
    seen.sort();
    let (mut orgs, mut uuids, mut addrs, mut ats) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for ((org, uuid), (addr, at)) in seen {
        orgs.push(org);
        uuids.push(uuid);
        addrs.push(addr);
        ats.push(at);
    }

    // Round trip 3.
    let (inserted, _, _) = tokio::try_join!(
        async {
            if cols.ids.is_empty() {
                Ok(Vec::new())
            } else {
                client
                    .query(
                        &insert,
                        &[
                            &cols.ids,
                            &cols.orgs,
                            &cols.devices,
                            &cols.topics,
                            &cols.payloads,
                            &cols.received,
                            &cols.peers,
                            &cols.sdks,
                            &cols.modems,
                            &cols.keys,
                        ],
                    )
                    .await
            }
        },
        async {
            if orgs.is_empty() {
                Ok(0)
            } else {
                client
                    .execute(&last_seen, &[&orgs, &uuids, &addrs, &ats, &LAST_SEEN_RESOLUTION_MS])
                    .await
            }
        },
        client.batch_execute("COMMIT"),
    )
    .map_err(backend)?;
    let stored: std::collections::HashSet<i64> = inserted.iter().map(|r| r.get::<_, i64>(0)).collect();

    // Keys another node stored meanwhile (committed, so visible now). Should
    // reading them fail, only those messages fail: the batch is committed.
    let raced: Vec<IdemKey> = plans
        .iter()
        .enumerate()
        .filter(|(_, p)| matches!(p, Plan::Insert(_, _, id) if !stored.contains(id)))
        .filter_map(|(i, _)| idem(i))
        .collect();
    let mut raced_err = None;
    if !raced.is_empty() {
        match lookup_keys(client, &raced).await {
            Ok(found) => earlier.extend(found),
            Err(e) => raced_err = Some(e),
        }
    }

    // Answers, in queue order.
    let mut records: Vec<Option<MessageRecord>> = Vec::with_capacity(jobs.len());
    let mut replies = Vec::with_capacity(jobs.len());
    for (i, (plan, job)) in plans.into_iter().zip(jobs).enumerate() {
        let (reply, record) = match plan {
            Plan::Nobody => (Ok(None), None),
            Plan::Earlier(t, record) => (duplicate(t, record.clone()), Some(record)),
            Plan::SameBatch(t, first) => match records.get(first).cloned().flatten() {
                Some(record) => (duplicate(t, record.clone()), Some(record)),
                None => (Err(StoreError::NotFound(format!("organization {}", t.name()))), None),
            },
            Plan::Insert(t, uuid, id) => {
                if stored.contains(&id) {
                    let record = new_record(&t, uuid, id, &job.message);
                    (
                        Ok(Some((
                            t,
                            StoredMessage {
                                record: record.clone(),
                                duplicate: false,
                            },
                        ))),
                        Some(record),
                    )
                } else if let Some(record) = idem(i).and_then(|k| earlier.get(&k).cloned()) {
                    (duplicate(t, record.clone()), Some(record))
                } else if let (Some(err), Some(_)) = (&raced_err, idem(i)) {
                    (Err(clone_err(err)), None)
                } else {
                    (Err(StoreError::NotFound(format!("organization {}", t.name()))), None)
                }
            }
        };
        records.push(record);
        replies.push(reply);
    }
    Ok(replies)
}

fn duplicate(t: Tenant, record: MessageRecord) -> Reply {
    Ok(Some((
        t,
        StoredMessage {
            record,
            duplicate: true,
        },
    )))
}

fn new_record(t: &Tenant, device_uuid: String, id: i64, m: &NewMessage) -> MessageRecord {
    MessageRecord {
        id,
        org: t.name().to_string(),
        device_uuid,
        topics: m.topics.clone(),
        payload: m.payload.clone(),
        received_at: m.received_at,
        peer: m.peer.clone(),
        sdk: m.sdk.clone(),
        modem: m.modem.clone(),
        idempotency_key: m.idempotency_key.clone(),
    }
}

/// The messages stored under these idempotency identities.
async fn lookup_keys(
    client: &deadpool_postgres::Object,
    keys: &[IdemKey],
) -> Result<HashMap<IdemKey, MessageRecord>, StoreError> {
    let mut found = HashMap::new();
    if keys.is_empty() {
        return Ok(found);
    }
    let orgs: Vec<i64> = keys.iter().map(|k| k.0).collect();
    let devices: Vec<&str> = keys.iter().map(|k| k.1.as_str()).collect();
    let ks: Vec<&str> = keys.iter().map(|k| k.2.as_str()).collect();
    let sql = format!(
        "SELECT {cols}, o.id, o.name FROM messages m JOIN orgs o ON o.id = m.org_id \
         JOIN UNNEST($1::int8[], $2::text[], $3::text[]) AS u(org_id, device_uuid, k) \
         ON m.org_id = u.org_id AND m.device_uuid = u.device_uuid AND m.idempotency_key = u.k",
        cols = COLS
            .split(", ")
            .map(|c| format!("m.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let s = client.prepare_cached(&sql).await.map_err(backend)?;
    for r in client.query(&s, &[&orgs, &devices, &ks]).await.map_err(backend)? {
        let org: &str = r.get(10);
        let record = row(org, &r);
        let key = record.idempotency_key.clone().unwrap_or_default();
        found.insert((r.get::<_, i64>(9), record.device_uuid.clone(), key), record);
    }
    Ok(found)
}

/// The columns of a multi-row insert.
#[derive(Default)]
struct InsertColumns {
    ids: Vec<i64>,
    orgs: Vec<i64>,
    devices: Vec<String>,
    topics: Vec<String>,
    payloads: Vec<Vec<u8>>,
    received: Vec<i64>,
    peers: Vec<String>,
    sdks: Vec<Option<String>>,
    modems: Vec<Option<String>>,
    keys: Vec<Option<String>>,
}

impl InsertColumns {
    fn push(&mut self, id: i64, org: i64, device: &str, m: &NewMessage) -> Result<(), StoreError> {
        self.ids.push(id);
        self.orgs.push(org);
        self.devices.push(device.to_owned());
        self.topics
            .push(serde_json::to_string(&m.topics).map_err(|e| StoreError::Backend(e.to_string()))?);
        self.payloads.push(m.payload.clone());
        self.received.push(m.received_at);
        self.peers.push(m.peer.clone());
        self.sdks.push(m.sdk.clone());
        self.modems.push(m.modem.clone());
        self.keys.push(m.idempotency_key.clone());
        Ok(())
    }
}
