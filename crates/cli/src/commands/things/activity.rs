//! What `things action ...` and `things event ...` share: listing,
//! creating, reading and deleting records of either kind through the
//! SDK's generic handles ([`Activities`], [`ActivityRef`], [`ActivityInstance`]).

use serde_json::Value;
use thingstead::things::{Activities, ActivityInstance, ActivityKind, ActivityRef, Query};

use super::list::{page_size, print_all};
use super::output::{print, value_arg};
use super::session::answer;

/// Prints the records of `all` (of `name` only, when given), at most
/// `limit`, fetched `size` at a time.
pub async fn list<K: ActivityKind>(
    all: Activities<K>,
    name: Option<&str>,
    limit: Option<u64>,
    size: u32,
) -> anyhow::Result<()> {
    let query = Query::new().limit(page_size(size, limit)?);
    let pages = match name {
        Some(n) => all.named(n).list_with(query),
        None => all.list_with(query),
    };
    print_all(pages.stream(), limit).await
}

/// Creates a record of `one` with `value` (JSON, else a string; `-` for
/// stdin) and prints it.
pub async fn create<K: ActivityKind>(one: ActivityRef<K>, value: Option<&str>) -> anyhow::Result<()> {
    let value = value.map(value_arg).transpose()?;
    print(&answer(one.create(value).await)?)
}

/// Prints the record.
pub async fn get<K: ActivityKind>(one: ActivityInstance<K>) -> anyhow::Result<()> {
    print(&answer(one.get().await)?)
}

/// Deletes the record, then prints `deleted`.
pub async fn delete<K: ActivityKind>(one: ActivityInstance<K>, deleted: Value) -> anyhow::Result<()> {
    answer(one.delete().await)?;
    print(&deleted)
}
