//! Lists: [`Pages`] fetches one [`Page`] at a time, lazily, following
//! `paging.next_cursor` until it is empty or null (WIRE.md A.5).

use std::collections::HashSet;

use futures::Stream;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::client::{Request, ThingsApi};
use super::error::{Result, ThingsError};
use super::response::Response;

/// `request` with its `next_cursor` replaced (or removed).
fn with_cursor(request: &Request, cursor: Option<&str>) -> Request {
    let mut request = request.clone();
    request.query.retain(|(k, _)| k != "next_cursor");
    if let Some(c) = cursor {
        request.query.push(("next_cursor".into(), c.to_owned()));
    }
    request
}

/// The cursors of a page.
///
/// ```
/// let p: thingstead::things::Paging = serde_json::from_str(r#"{"next_cursor":null}"#).unwrap();
/// assert_eq!(p.next(), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paging {
    /// The cursor of the next page; `None` or empty at the end.
    #[serde(default)]
    pub next_cursor: Option<String>,
    /// The cursor of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_cursor: Option<String>,
}

impl Paging {
    /// The next cursor when there is a next page.
    ///
    /// ```
    /// let p = thingstead::things::Paging { next_cursor: Some("".into()), previous_cursor: None };
    /// assert_eq!(p.next(), None);
    /// ```
    pub fn next(&self) -> Option<&str> {
        self.next_cursor.as_deref().filter(|c| !c.is_empty())
    }
}

/// One page of a list: `{"data": [...], "paging": {...}}`.
///
/// ```
/// let p: thingstead::things::Page<serde_json::Value> = serde_json::from_str(r#"{"data":[1,2],"paging":{"next_cursor":"c"}}"#).unwrap();
/// assert_eq!(p.next_cursor(), Some("c"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items.
    pub data: Vec<T>,
    /// The cursors.
    #[serde(default)]
    pub paging: Paging,
}

impl<T> Page<T> {
    /// The cursor of the next page, if there is one.
    ///
    /// ```
    /// # let p: thingstead::things::Page<u8> = serde_json::from_str(r#"{"data":[],"paging":{"next_cursor":""}}"#).unwrap();
    /// assert_eq!(p.next_cursor(), None);
    /// ```
    pub fn next_cursor(&self) -> Option<&str> {
        self.paging.next()
    }

    /// The cursor of the previous page, if there is one.
    ///
    /// ```
    /// # let p: thingstead::things::Page<u8> = serde_json::from_str(r#"{"data":[],"paging":{"next_cursor":null,"previous_cursor":"p"}}"#).unwrap();
    /// assert_eq!(p.previous_cursor(), Some("p"));
    /// ```
    pub fn previous_cursor(&self) -> Option<&str> {
        self.paging.previous_cursor.as_deref().filter(|c| !c.is_empty())
    }
}

/// A list not fetched yet: [`first`](Pages::first) fetches one page,
/// [`stream`](Pages::stream) every item lazily page by page,
/// [`collect_all`](Pages::collect_all) them into a `Vec`.
///
/// ```no_run
/// use futures::TryStreamExt;
/// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
/// let things = api.space("acme").things().list(Default::default());
/// let mut stream = std::pin::pin!(things.stream());
/// while let Some(thing) = stream.try_next().await? {
///     println!("{}", thing.uid);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a list is fetched by first(), stream() or collect_all()"]
pub struct Pages<T> {
    api: ThingsApi,
    request: Request,
    _item: std::marker::PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Pages<T> {
    pub(crate) fn new(api: ThingsApi, request: Request) -> Self {
        Self {
            api,
            request,
            _item: std::marker::PhantomData,
        }
    }

    /// The first page (from the query's cursor, if it has one).
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let page = api.space("acme").categories().list(Default::default()).first().await?;
    /// println!("{} categories, next: {:?}", page.value.data.len(), page.value.next_cursor());
    /// # Ok(()) }
    /// ```
    pub async fn first(&self) -> Result<Response<Page<T>>> {
        self.api.call(&self.request).await
    }

    /// The page at `cursor` (a `next_cursor` of an earlier page) with the
    /// same filters.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let things = api.space("acme").things().list(Default::default());
    /// let first = things.first().await?;
    /// if let Some(c) = first.value.next_cursor() { things.page(c).await?; }
    /// # Ok(()) }
    /// ```
    pub async fn page(&self, cursor: &str) -> Result<Response<Page<T>>> {
        self.api.call(&with_cursor(&self.request, Some(cursor))).await
    }

    /// Every item, fetching the next page only when the items before are
    /// consumed. Stops at an empty or null cursor; yields
    /// [`ThingsError::RepeatedCursor`] (and stops) if the server sends a
    /// cursor it sent before.
    ///
    /// ```no_run
    /// use futures::TryStreamExt;
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let all: Vec<_> = api.space("acme").things().list(Default::default()).stream().try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn stream(&self) -> impl Stream<Item = Result<T>> + Send + 'static
    where
        T: Send + 'static,
    {
        struct State<T> {
            api: ThingsApi,
            first: Request,
            cursor: Option<String>,
            started: bool,
            seen: HashSet<String>,
            buffer: std::vec::IntoIter<T>,
            pending: Option<ThingsError>,
            done: bool,
        }
        let state = State {
            api: self.api.clone(),
            first: self.request.clone(),
            cursor: None,
            started: false,
            seen: HashSet::new(),
            buffer: Vec::new().into_iter(),
            pending: None,
            done: false,
        };
        futures::stream::unfold(state, |mut s| async move {
            loop {
                if let Some(item) = s.buffer.next() {
                    return Some((Ok(item), s));
                }
                if let Some(e) = s.pending.take() {
                    return Some((Err(e), s));
                }
                if s.done {
                    return None;
                }
                let request = if s.started {
                    let cursor = s.cursor.take()?;
                    with_cursor(&s.first, Some(&cursor))
                } else {
                    s.first.clone()
                };
                s.started = true;
                let page = match s.api.call::<Page<T>>(&request).await {
                    Ok(page) => page.into_inner(),
                    Err(e) => {
                        s.done = true;
                        return Some((Err(e), s));
                    }
                };
                match page.next_cursor() {
                    None => s.done = true,
                    Some(c) if !s.seen.insert(c.to_owned()) => {
                        // This page's items, then the error, then the end.
                        s.done = true;
                        s.pending = Some(ThingsError::RepeatedCursor { cursor: c.to_owned() });
                    }
                    Some(c) => s.cursor = Some(c.to_owned()),
                }
                s.buffer = page.data.into_iter();
            }
        })
    }

    /// The first `max` items (fewer if the list is shorter); pages after
    /// the one holding the `max`-th item are not fetched.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let all = api.space("acme").categories().list(Default::default()).collect_all(10_000).await?;
    /// # Ok(()) }
    /// ```
    pub async fn collect_all(&self, max: usize) -> Result<Vec<T>>
    where
        T: Send + 'static,
    {
        use futures::StreamExt;
        let mut out = Vec::new();
        let mut stream = std::pin::pin!(self.stream());
        while out.len() < max {
            match stream.next().await {
                Some(item) => out.push(item?),
                None => break,
            }
        }
        Ok(out)
    }
}
