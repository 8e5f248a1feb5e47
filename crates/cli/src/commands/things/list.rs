//! `things list` and `things delete-matching`: the filters of WIRE.md A.5
//! as flags, and a lazy walk through the pages (one request per page,
//! each thing printed as it arrives, stopping at `--limit`).

use anyhow::bail;
use futures::{Stream, StreamExt};
use serde::Serialize;
use serde_json::Value;
use thingstead::things::{Space, ThingQuery, ThingsError};

use super::output::print;
use super::session::answer;

/// Most things one page asks for (the server's maximum).
pub const MAX_PAGE: u32 = 1000;

/// Which things.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct FilterArgs {
    /// A filter (repeatable): `property:NAME=[OP:]VALUE` with OP one of eq (default), neq, gt,
    /// gte, lt, lte, contains, e.g. `property:temperature=gt:20`; or KEY=VALUE for title,
    /// @type, model, version, in_category, links.rel, links.href.
    #[arg(long = "filter", value_name = "FILTER")]
    pub filters: Vec<String>,
    /// Only things in this category (repeatable: in any of them).
    #[arg(long = "category", value_name = "NAME")]
    pub categories: Vec<String>,
    /// Only this thing (repeatable).
    #[arg(long = "thing-id", value_name = "UID")]
    pub thing_ids: Vec<String>,
}

impl FilterArgs {
    /// The query pairs, in order.
    pub fn pairs(&self) -> anyhow::Result<Vec<(String, String)>> {
        let mut pairs = Vec::new();
        for f in &self.filters {
            match f.split_once('=') {
                Some((k, v)) if !k.is_empty() && k != "property:" => pairs.push((k.to_owned(), v.to_owned())),
                _ => bail!("a filter is KEY=VALUE, e.g. property:temperature=gt:20 or title=Pump: {f:?}"),
            }
        }
        pairs.extend(self.categories.iter().map(|c| ("category[]".to_owned(), c.clone())));
        pairs.extend(self.thing_ids.iter().map(|t| ("thingID[]".to_owned(), t.clone())));
        Ok(pairs)
    }

    fn is_empty(&self) -> bool {
        self.filters.is_empty() && self.categories.is_empty() && self.thing_ids.is_empty()
    }
}

/// `things list` flags.
#[derive(clap::Args, Debug, Clone)]
pub struct ListArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Sort keys, comma separated, `-` for descending; dotted paths such as `-status.temperature`.
    #[arg(long, allow_hyphen_values = true)]
    pub sort: Option<String>,
    /// Print at most this many things (default: all of them).
    #[arg(long)]
    pub limit: Option<u64>,
    /// Things asked for per request (1 to 1000).
    #[arg(long, default_value_t = 100)]
    pub page_size: u32,
}

/// The page size to ask for: at most `limit`, within 1..=1000.
pub fn page_size(page_size: u32, limit: Option<u64>) -> anyhow::Result<u32> {
    if !(1..=MAX_PAGE).contains(&page_size) {
        bail!("--page-size is 1 to {MAX_PAGE}");
    }
    Ok(match limit {
        Some(l) => page_size.min(u32::try_from(l.max(1)).unwrap_or(MAX_PAGE)),
        None => page_size,
    })
}

/// Prints each item of `stream` as it arrives, at most `limit` of them
/// (the stream fetches a page only when its items are wanted).
pub async fn print_all<T: Serialize>(
    stream: impl Stream<Item = Result<T, ThingsError>>,
    limit: Option<u64>,
) -> anyhow::Result<()> {
    let mut stream = std::pin::pin!(stream);
    let mut printed = 0u64;
    while limit.is_none_or(|l| printed < l) {
        let Some(item) = stream.next().await else { break };
        print(&serde_json::to_value(item?)?)?;
        printed += 1;
    }
    Ok(())
}

fn query(pairs: Vec<(String, String)>, sort: Option<&str>, page: u32) -> ThingQuery {
    let mut q = ThingQuery::new().limit(page);
    for (k, v) in pairs {
        q = q.param(&k, v);
    }
    if let Some(s) = sort {
        q = q.sort(s);
    }
    q
}

/// `things list`.
pub async fn things(space: &Space, args: &ListArgs) -> anyhow::Result<()> {
    let page = page_size(args.page_size, args.limit)?;
    let q = query(args.filter.pairs()?, args.sort.as_deref(), page);
    print_all(space.things().list(q).stream(), args.limit).await
}

/// `things delete-matching`: refuses to run without a filter (the server
/// would refuse too); prints the deleted uids, one per line.
pub async fn delete_matching(space: &Space, args: &FilterArgs) -> anyhow::Result<()> {
    if args.is_empty() {
        bail!("delete-matching needs at least one --filter, --category or --thing-id");
    }
    let q = query(args.pairs()?, None, MAX_PAGE);
    match answer(space.things().delete_matching(q).await)? {
        Value::Array(uids) => {
            for uid in uids {
                print(&uid)?;
            }
            Ok(())
        }
        other => print(&other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_become_the_wire_pairs() {
        let f = FilterArgs {
            filters: vec!["property:temperature=gt:20".into(), "title=Pump = 2".into()],
            categories: vec!["Sensors".into()],
            thing_ids: vec!["a".into(), "b".into()],
        };
        let pairs = f.pairs().unwrap();
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("property:temperature", "gt:20"),
                ("title", "Pump = 2"),
                ("category[]", "Sensors"),
                ("thingID[]", "a"),
                ("thingID[]", "b")
            ]
        );
        for bad in ["temperature", "=1", "property:=1"] {
            let f = FilterArgs {
                filters: vec![bad.into()],
                ..Default::default()
            };
            assert!(f.pairs().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_page_size_never_exceeds_the_limit() {
        assert_eq!(page_size(100, None).unwrap(), 100);
        assert_eq!(page_size(100, Some(5)).unwrap(), 5);
        assert_eq!(page_size(3, Some(5)).unwrap(), 3);
        assert!(page_size(0, None).is_err());
        assert!(page_size(1001, None).is_err());
    }
}
