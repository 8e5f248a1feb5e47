//! A blocking facade over [`ThingsApi`](super::ThingsApi) for code without
//! an async runtime: the same surface, each call run to completion on the
//! client's own current-thread tokio runtime; lists are lazy
//! [`Iterator`]s. Do not use it inside an async runtime: its calls then
//! fail with [`ThingsError::Config`].
//!
//! ```no_run
//! use thingstead::things::{ThingQuery, blocking::ThingsApi};
//! let api = ThingsApi::builder().host("http://127.0.0.1:8080").build()?;
//! api.set_credentials("client-id", "secret", &["thing"])?;
//! for thing in api.space("acme").things().list(ThingQuery::new().limit(100)).iter() {
//!     let thing = thing?;
//!     println!("{} {:?}", thing.uid, thing.title);
//! }
//! # Ok::<(), thingstead::things::ThingsError>(())
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::runtime::Runtime;

use super::{
    ActionKind, ActionResponse, ActivityKind, Category, Email, EventKind, HistoryItem, HistoryQuery, NewCategory, Page,
    PatchMultiStatus, PropertyValues, Query, Response, Result, Thing, ThingPatch, ThingQuery, ThingsError,
    UpdateHistory,
};

const INSIDE_RUNTIME: &str =
    "the blocking things client cannot be used inside an async runtime: use thingstead::things::ThingsApi";

/// The runtime shared by a client and every handle made from it.
#[derive(Debug, Clone)]
struct Rt(Arc<Runtime>);

impl Rt {
    fn new() -> Result<Self> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(ThingsError::Config(INSIDE_RUNTIME.into()));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ThingsError::Config(format!("cannot start a runtime: {e}")))?;
        Ok(Self(Arc::new(runtime)))
    }

    fn run<T>(&self, future: impl Future<Output = Result<T>>) -> Result<T> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(ThingsError::Config(INSIDE_RUNTIME.into()));
        }
        self.0.block_on(future)
    }
}

/// How a blocking [`ThingsApi`] is made: the settings of
/// [`ThingsApiBuilder`](super::ThingsApiBuilder).
///
/// ```
/// let api = thingstead::things::blocking::ThingsApi::builder().host("http://127.0.0.1:8080").build()?;
/// # Ok::<(), thingstead::things::ThingsError>(())
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct ThingsApiBuilder(super::ThingsApiBuilder);

impl ThingsApiBuilder {
    /// See [`ThingsApiBuilder::host`](super::ThingsApiBuilder::host).
    ///
    /// ```
    /// let b = thingstead::things::blocking::ThingsApi::builder().host("http://h:8080");
    /// ```
    pub fn host(self, host: impl Into<String>) -> Self {
        Self(self.0.host(host))
    }

    /// See [`ThingsApiBuilder::verify_tls`](super::ThingsApiBuilder::verify_tls).
    ///
    /// ```
    /// let b = thingstead::things::blocking::ThingsApi::builder().verify_tls(false);
    /// ```
    pub fn verify_tls(self, verify: bool) -> Self {
        Self(self.0.verify_tls(verify))
    }

    /// See [`ThingsApiBuilder::root_certificate_pem`](super::ThingsApiBuilder::root_certificate_pem).
    ///
    /// ```no_run
    /// let b = thingstead::things::blocking::ThingsApi::builder().root_certificate_pem(std::fs::read("ca.pem")?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn root_certificate_pem(self, pem: impl Into<Vec<u8>>) -> Self {
        Self(self.0.root_certificate_pem(pem))
    }

    /// See [`ThingsApiBuilder::refresh_threshold`](super::ThingsApiBuilder::refresh_threshold).
    ///
    /// ```
    /// let b = thingstead::things::blocking::ThingsApi::builder().refresh_threshold(std::time::Duration::from_secs(5));
    /// ```
    pub fn refresh_threshold(self, threshold: Duration) -> Self {
        Self(self.0.refresh_threshold(threshold))
    }

    /// See [`ThingsApiBuilder::timeout`](super::ThingsApiBuilder::timeout).
    ///
    /// ```
    /// let b = thingstead::things::blocking::ThingsApi::builder().timeout(std::time::Duration::from_secs(5));
    /// ```
    pub fn timeout(self, timeout: Duration) -> Self {
        Self(self.0.timeout(timeout))
    }

    /// The client, with its own runtime.
    ///
    /// ```
    /// let api = thingstead::things::blocking::ThingsApi::builder().build()?;
    /// # Ok::<(), thingstead::things::ThingsError>(())
    /// ```
    pub fn build(self) -> Result<ThingsApi> {
        let rt = Rt::new()?;
        let api = self.0.build()?;
        Ok(ThingsApi { api, rt })
    }
}

/// The blocking things client; see [`super::ThingsApi`].
///
/// ```no_run
/// let api = thingstead::things::blocking::ThingsApi::builder().build()?;
/// api.set_token("eyJ...")?;
/// let thing = api.space("acme").thing("boiler-3").get()?;
/// # Ok::<(), thingstead::things::ThingsError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ThingsApi {
    api: super::ThingsApi,
    rt: Rt,
}

impl ThingsApi {
    /// A builder with the defaults.
    ///
    /// ```
    /// let b = thingstead::things::blocking::ThingsApi::builder();
    /// ```
    pub fn builder() -> ThingsApiBuilder {
        ThingsApiBuilder::default()
    }

    /// The async client behind this one (run its futures with
    /// [`block_on`](ThingsApi::block_on)).
    ///
    /// ```
    /// let api = thingstead::things::blocking::ThingsApi::builder().build()?;
    /// assert_eq!(api.as_async().host(), api.host());
    /// # Ok::<(), thingstead::things::ThingsError>(())
    /// ```
    pub fn as_async(&self) -> &super::ThingsApi {
        &self.api
    }

    /// Runs `future` on this client's runtime.
    ///
    /// ```no_run
    /// let api = thingstead::things::blocking::ThingsApi::builder().build()?;
    /// let token = api.block_on(api.as_async().token())?;
    /// # Ok::<(), thingstead::things::ThingsError>(())
    /// ```
    pub fn block_on<T>(&self, future: impl Future<Output = Result<T>>) -> Result<T> {
        self.rt.run(future)
    }

    /// The server's base URL.
    ///
    /// ```
    /// let api = thingstead::things::blocking::ThingsApi::builder().host("http://h:1").build()?;
    /// assert_eq!(api.host(), "http://h:1");
    /// # Ok::<(), thingstead::things::ThingsError>(())
    /// ```
    pub fn host(&self) -> &str {
        self.api.host()
    }

    /// See [`set_token`](super::ThingsApi::set_token).
    ///
    /// ```no_run
    /// # let api = thingstead::things::blocking::ThingsApi::builder().build()?;
    /// api.set_token("eyJ...")?;
    /// # Ok::<(), thingstead::things::ThingsError>(())
    /// ```
    pub fn set_token(&self, token: impl Into<String>) -> Result<()> {
        let token = token.into();
        self.rt.run(async {
            self.api.set_token(token).await;
            Ok(())
        })
    }

    /// See [`set_credentials`](super::ThingsApi::set_credentials).
    ///
    /// ```no_run
    /// # let api = thingstead::things::blocking::ThingsApi::builder().build()?;
    /// api.set_credentials("client-id", "secret", &["thing"])?;
    /// # Ok::<(), thingstead::things::ThingsError>(())
    /// ```
    pub fn set_credentials(&self, client_id: &str, client_secret: &str, scopes: &[&str]) -> Result<()> {
        self.rt.run(self.api.set_credentials(client_id, client_secret, scopes))
    }

    /// See [`revoke_token`](super::ThingsApi::revoke_token).
    ///
    /// ```no_run
    /// # let api = thingstead::things::blocking::ThingsApi::builder().build()?;
    /// api.revoke_token()?;
    /// # Ok::<(), thingstead::things::ThingsError>(())
    /// ```
    pub fn revoke_token(&self) -> Result<()> {
        self.rt.run(self.api.revoke_token())
    }

    /// See [`token`](super::ThingsApi::token).
    ///
    /// ```no_run
    /// # let api = thingstead::things::blocking::ThingsApi::builder().build()?;
    /// let token = api.token()?;
    /// # Ok::<(), thingstead::things::ThingsError>(())
    /// ```
    pub fn token(&self) -> Result<Option<String>> {
        self.rt.run(self.api.token())
    }

    /// A client with its own credentials whose token is revoked by
    /// [`ScopedApi::close`] or when it is dropped.
    ///
    /// ```no_run
    /// # let api = thingstead::things::blocking::ThingsApi::builder().build()?;
    /// let scoped = api.scoped_credentials("client-id", "secret", &["thing"])?;
    /// scoped.space("acme").things().list(Default::default()).collect_all(10)?;
    /// scoped.close()?;
    /// # Ok::<(), thingstead::things::ThingsError>(())
    /// ```
    pub fn scoped_credentials(&self, client_id: &str, client_secret: &str, scopes: &[&str]) -> Result<ScopedApi> {
        let scoped = self
            .rt
            .run(self.api.scoped_credentials(client_id, client_secret, scopes))?;
        let api = ThingsApi {
            api: (*scoped).clone(),
            rt: self.rt.clone(),
        };
        Ok(ScopedApi {
            api,
            scoped: Some(scoped),
        })
    }

    /// Space `space`.
    ///
    /// ```
    /// # let api = thingstead::things::blocking::ThingsApi::builder().build()?;
    /// let acme = api.space("acme");
    /// # Ok::<(), thingstead::things::ThingsError>(())
    /// ```
    pub fn space(&self, space: &str) -> Space {
        self.rt.handle(self.api.space(space))
    }
}

/// A blocking client whose token is revoked by [`close`](ScopedApi::close)
/// or on drop (outside an async runtime the drop waits for the revocation,
/// bounded by the client's timeout). Dereferences to [`ThingsApi`].
///
/// ```no_run
/// # let api = thingstead::things::blocking::ThingsApi::builder().build()?;
/// let scoped = api.scoped_credentials("client-id", "secret", &["thing.read"])?;
/// let things = scoped.space("acme").things().list(Default::default()).collect_all(100)?;
/// drop(scoped); // revoked
/// # Ok::<(), thingstead::things::ThingsError>(())
/// ```
#[derive(Debug)]
pub struct ScopedApi {
    api: ThingsApi,
    scoped: Option<super::ScopedApi>,
}

impl ScopedApi {
    /// Revokes the token now.
    ///
    /// ```no_run
    /// # let api = thingstead::things::blocking::ThingsApi::builder().build()?;
    /// api.scoped_credentials("client-id", "secret", &["thing"])?.close()?;
    /// # Ok::<(), thingstead::things::ThingsError>(())
    /// ```
    pub fn close(mut self) -> Result<()> {
        match self.scoped.take() {
            Some(scoped) => self.api.rt.run(scoped.close()),
            None => Ok(()),
        }
    }
}

impl std::ops::Deref for ScopedApi {
    type Target = ThingsApi;
    fn deref(&self) -> &ThingsApi {
        &self.api
    }
}

impl Drop for ScopedApi {
    fn drop(&mut self) {
        let Some(scoped) = self.scoped.take() else {
            return;
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            // Inside a runtime: the async drop spawns the revocation.
            drop(scoped);
            return;
        }
        if let Err(e) = self.api.rt.run(scoped.close()) {
            tracing::warn!("revoking the token of a dropped ScopedApi: {e}");
        }
    }
}

/// A list, fetched lazily; see [`Pages`](super::Pages).
///
/// ```no_run
/// # let api = thingstead::things::blocking::ThingsApi::builder().build()?;
/// let pages = api.space("acme").categories().list(Default::default());
/// let first = pages.first()?;
/// for category in pages.iter() { println!("{}", category?.name); }
/// # Ok::<(), thingstead::things::ThingsError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Pages<T> {
    inner: super::Pages<T>,
    rt: Rt,
}

impl<T: DeserializeOwned + Send + 'static> Pages<T> {
    /// The first page.
    ///
    /// ```no_run
    /// # let api = thingstead::things::blocking::ThingsApi::builder().build()?;
    /// let page = api.space("acme").things().list(Default::default()).first()?;
    /// # Ok::<(), thingstead::things::ThingsError>(())
    /// ```
    pub fn first(&self) -> Result<Response<Page<T>>> {
        self.rt.run(self.inner.first())
    }

    /// The page at `cursor`.
    ///
    /// ```no_run
    /// # let api = thingstead::things::blocking::ThingsApi::builder().build()?;
    /// let page = api.space("acme").things().list(Default::default()).page("cursor")?;
    /// # Ok::<(), thingstead::things::ThingsError>(())
    /// ```
    pub fn page(&self, cursor: &str) -> Result<Response<Page<T>>> {
        self.rt.run(self.inner.page(cursor))
    }

    /// Every item, fetching each page when the items before are consumed.
    ///
    /// ```no_run
    /// # let api = thingstead::things::blocking::ThingsApi::builder().build()?;
    /// let uids: Vec<String> = api.space("acme").things().list(Default::default()).iter()
    ///     .map(|t| t.map(|t| t.uid)).collect::<Result<_, _>>()?;
    /// # Ok::<(), thingstead::things::ThingsError>(())
    /// ```
    pub fn iter(&self) -> PageIter<T> {
        PageIter {
            stream: Box::pin(self.inner.stream()),
            rt: self.rt.clone(),
        }
    }

    /// The first `max` items.
    ///
    /// ```no_run
    /// # let api = thingstead::things::blocking::ThingsApi::builder().build()?;
    /// let all = api.space("acme").things().list(Default::default()).collect_all(10_000)?;
    /// # Ok::<(), thingstead::things::ThingsError>(())
    /// ```
    pub fn collect_all(&self, max: usize) -> Result<Vec<T>> {
        self.rt.run(self.inner.collect_all(max))
    }
}

impl<T: DeserializeOwned + Send + 'static> IntoIterator for &Pages<T> {
    type Item = Result<T>;
    type IntoIter = PageIter<T>;
    fn into_iter(self) -> PageIter<T> {
        self.iter()
    }
}

/// The items of a list as an [`Iterator`], fetched page by page.
pub struct PageIter<T> {
    stream: Pin<Box<dyn Stream<Item = Result<T>> + Send>>,
    rt: Rt,
}

impl<T> std::fmt::Debug for PageIter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageIter")
    }
}

impl<T> Iterator for PageIter<T> {
    type Item = Result<T>;
    fn next(&mut self) -> Option<Result<T>> {
        let stream = &mut self.stream;
        match self.rt.run(async { Ok(stream.next().await) }) {
            Ok(item) => item,
            Err(e) => Some(Err(e)),
        }
    }
}

/// A blocking handle: its async handle and the runtime that runs it.
trait Handle {
    /// The async handle.
    type Inner;
    fn make(inner: Self::Inner, rt: Rt) -> Self;
}

/// Generates a blocking handle wrapping an async one (generic over the
/// activity kind with `<K>`).
macro_rules! handle {
    ($(#[$doc:meta])* $name:ident $(<$k:ident>)?) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name $(<$k>)? {
            inner: super::$name $(<$k>)?,
            rt: Rt,
        }

        impl $(<$k>)? Handle for $name $(<$k>)? {
            type Inner = super::$name $(<$k>)?;
            fn make(inner: Self::Inner, rt: Rt) -> Self {
                Self { inner, rt }
            }
        }
    };
}

impl Rt {
    fn pages<T>(&self, inner: super::Pages<T>) -> Pages<T> {
        Pages {
            inner,
            rt: self.clone(),
        }
    }

    /// The blocking handle of `inner`.
    fn handle<H: Handle>(&self, inner: H::Inner) -> H {
        H::make(inner, self.clone())
    }
}

handle!(
    /// One space; see [`Space`](super::Space).
    Space
);

impl Space {
    /// See [`Space::categories`](super::Space::categories).
    pub fn categories(&self) -> Categories {
        self.rt.handle(self.inner.categories())
    }
    /// See [`Space::category`](super::Space::category).
    pub fn category(&self, name: &str) -> CategoryRef {
        self.rt.handle(self.inner.category(name))
    }
    /// See [`Space::things`](super::Space::things).
    pub fn things(&self) -> Things {
        self.rt.handle(self.inner.things())
    }
    /// See [`Space::thing`](super::Space::thing).
    pub fn thing(&self, uid: &str) -> ThingRef {
        self.rt.handle(self.inner.thing(uid))
    }
    /// See [`Space::communications`](super::Space::communications).
    pub fn communications(&self) -> Communications {
        self.rt.handle(self.inner.communications())
    }
}

handle!(
    /// The categories of a space; see [`Categories`](super::Categories).
    Categories
);

impl Categories {
    /// See [`Categories::create`](super::Categories::create).
    pub fn create(&self, category: &NewCategory) -> Result<Response<Category>> {
        self.rt.run(self.inner.create(category))
    }
    /// See [`Categories::list`](super::Categories::list).
    pub fn list(&self, query: Query) -> Pages<Category> {
        self.rt.pages(self.inner.list(query))
    }
}

handle!(
    /// One category; see [`CategoryRef`](super::CategoryRef).
    CategoryRef
);

impl CategoryRef {
    /// See [`CategoryRef::get`](super::CategoryRef::get).
    pub fn get(&self) -> Result<Response<Category>> {
        self.rt.run(self.inner.get())
    }
    /// See [`CategoryRef::update`](super::CategoryRef::update).
    pub fn update(&self, category: &NewCategory) -> Result<Response<Category>> {
        self.rt.run(self.inner.update(category))
    }
    /// See [`CategoryRef::delete`](super::CategoryRef::delete).
    pub fn delete(&self) -> Result<Response<()>> {
        self.rt.run(self.inner.delete())
    }
    /// See [`CategoryRef::things`](super::CategoryRef::things).
    pub fn things(&self) -> Things {
        self.rt.handle(self.inner.things())
    }
    /// See [`CategoryRef::thing`](super::CategoryRef::thing).
    pub fn thing(&self, uid: &str) -> ThingRef {
        self.rt.handle(self.inner.thing(uid))
    }
}

handle!(
    /// The things of a space or category; see [`Things`](super::Things).
    Things
);

impl Things {
    /// See [`Things::create`](super::Things::create).
    pub fn create(&self, thing: &impl Serialize) -> Result<Response<Thing>> {
        self.rt.run(self.inner.create(thing))
    }
    /// See [`Things::list`](super::Things::list).
    pub fn list(&self, query: ThingQuery) -> Pages<Thing> {
        self.rt.pages(self.inner.list(query))
    }
    /// See [`Things::patch_many`](super::Things::patch_many).
    pub fn patch_many(&self, patches: &[ThingPatch]) -> Result<Response<PatchMultiStatus>> {
        self.rt.run(self.inner.patch_many(patches))
    }
    /// See [`Things::delete_matching`](super::Things::delete_matching).
    pub fn delete_matching(&self, filter: ThingQuery) -> Result<Response<Vec<String>>> {
        self.rt.run(self.inner.delete_matching(filter))
    }
    /// See [`Things::thing`](super::Things::thing).
    pub fn thing(&self, uid: &str) -> ThingRef {
        self.rt.handle(self.inner.thing(uid))
    }
}

handle!(
    /// One thing; see [`ThingRef`](super::ThingRef).
    ThingRef
);

impl ThingRef {
    /// See [`ThingRef::get`](super::ThingRef::get).
    pub fn get(&self) -> Result<Response<Thing>> {
        self.rt.run(self.inner.get())
    }
    /// See [`ThingRef::update`](super::ThingRef::update).
    pub fn update(&self, thing: &impl Serialize) -> Result<Response<Thing>> {
        self.rt.run(self.inner.update(thing))
    }
    /// See [`ThingRef::patch`](super::ThingRef::patch).
    pub fn patch(&self, ops: &impl Serialize) -> Result<Response<Thing>> {
        self.rt.run(self.inner.patch(ops))
    }
    /// See [`ThingRef::delete`](super::ThingRef::delete).
    pub fn delete(&self) -> Result<Response<()>> {
        self.rt.run(self.inner.delete())
    }
    /// See [`ThingRef::properties`](super::ThingRef::properties).
    pub fn properties(&self) -> Properties {
        self.rt.handle(self.inner.properties())
    }
    /// See [`ThingRef::property`](super::ThingRef::property).
    pub fn property(&self, name: &str) -> PropertyRef {
        self.rt.handle(self.inner.property(name))
    }
    /// See [`ThingRef::history`](super::ThingRef::history).
    pub fn history(&self) -> History {
        self.rt.handle(self.inner.history())
    }
    /// See [`ThingRef::history_of`](super::ThingRef::history_of).
    pub fn history_of(&self, name: &str) -> History {
        self.rt.handle(self.inner.history_of(name))
    }
    /// See [`ThingRef::actions`](super::ThingRef::actions).
    pub fn actions(&self) -> Actions {
        self.rt.handle(self.inner.actions())
    }
    /// See [`ThingRef::action`](super::ThingRef::action).
    pub fn action(&self, name: &str) -> ActionRef {
        self.rt.handle(self.inner.action(name))
    }
    /// See [`ThingRef::action_instance`](super::ThingRef::action_instance).
    pub fn action_instance(&self, name: &str, id: &str) -> ActionInstance {
        self.rt.handle(self.inner.action_instance(name, id))
    }
    /// See [`ThingRef::events`](super::ThingRef::events).
    pub fn events(&self) -> Events {
        self.rt.handle(self.inner.events())
    }
    /// See [`ThingRef::event`](super::ThingRef::event).
    pub fn event(&self, name: &str) -> EventRef {
        self.rt.handle(self.inner.event(name))
    }
    /// See [`ThingRef::event_instance`](super::ThingRef::event_instance).
    pub fn event_instance(&self, name: &str, id: &str) -> EventInstance {
        self.rt.handle(self.inner.event_instance(name, id))
    }
}

handle!(
    /// The property values of a thing; see [`Properties`](super::Properties).
    Properties
);

impl Properties {
    /// See [`Properties::get`](super::Properties::get).
    pub fn get(&self) -> Result<Response<PropertyValues>> {
        self.rt.run(self.inner.get())
    }
    /// See [`Properties::update`](super::Properties::update).
    pub fn update(&self, values: Map<String, Value>, history: UpdateHistory) -> Result<Response<PropertyValues>> {
        self.rt.run(self.inner.update(values, history))
    }
    /// See [`Properties::property`](super::Properties::property).
    pub fn property(&self, name: &str) -> PropertyRef {
        self.rt.handle(self.inner.property(name))
    }
}

handle!(
    /// One property's value; see [`PropertyRef`](super::PropertyRef).
    PropertyRef
);

impl PropertyRef {
    /// See [`PropertyRef::get`](super::PropertyRef::get).
    pub fn get(&self) -> Result<Response<Value>> {
        self.rt.run(self.inner.get())
    }
    /// See [`PropertyRef::update`](super::PropertyRef::update).
    pub fn update(&self, value: impl Into<Value>) -> Result<Response<Value>> {
        self.rt.run(self.inner.update(value))
    }
    /// See [`PropertyRef::update_with`](super::PropertyRef::update_with).
    pub fn update_with(&self, value: impl Into<Value>, history: UpdateHistory) -> Result<Response<Value>> {
        self.rt.run(self.inner.update_with(value, history))
    }
}

handle!(
    /// Property history; see [`History`](super::History).
    History
);

impl History {
    /// See [`History::create`](super::History::create).
    pub fn create(&self, items: &[HistoryItem]) -> Result<Response<Vec<HistoryItem>>> {
        self.rt.run(self.inner.create(items))
    }
    /// See [`History::list`](super::History::list).
    pub fn list(&self, query: HistoryQuery) -> Pages<HistoryItem> {
        self.rt.pages(self.inner.list(query))
    }
    /// See [`History::delete`](super::History::delete).
    pub fn delete(&self, query: HistoryQuery) -> Result<Response<()>> {
        self.rt.run(self.inner.delete(query))
    }
}

handle!(
    /// Every record of one kind of a thing; see [`Activities`](super::Activities).
    Activities<K>
);

/// Every action request of a thing; see [`Actions`](super::Actions).
pub type Actions = Activities<ActionKind>;
/// Every event occurrence of a thing; see [`Events`](super::Events).
pub type Events = Activities<EventKind>;

impl<K: ActivityKind> Activities<K> {
    /// See [`Activities::list`](super::Activities::list).
    pub fn list(&self) -> Pages<K::Response> {
        self.rt.pages(self.inner.list())
    }
    /// See [`Activities::list_with`](super::Activities::list_with).
    pub fn list_with(&self, query: Query) -> Pages<K::Response> {
        self.rt.pages(self.inner.list_with(query))
    }
    /// See [`Activities::named`](super::Activities::named).
    pub fn named(&self, name: &str) -> ActivityRef<K> {
        self.rt.handle(self.inner.named(name))
    }
}

impl Actions {
    /// See [`Actions::action`](super::Actions::action).
    pub fn action(&self, name: &str) -> ActionRef {
        self.named(name)
    }
}

impl Events {
    /// See [`Events::event`](super::Events::event).
    pub fn event(&self, name: &str) -> EventRef {
        self.named(name)
    }
}

handle!(
    /// One action or event; see [`ActivityRef`](super::ActivityRef).
    ActivityRef<K>
);

/// One action; see [`ActionRef`](super::ActionRef).
pub type ActionRef = ActivityRef<ActionKind>;
/// One event; see [`EventRef`](super::EventRef).
pub type EventRef = ActivityRef<EventKind>;

impl<K: ActivityKind> ActivityRef<K> {
    /// See [`ActivityRef::create`](super::ActivityRef::create).
    pub fn create(&self, value: impl Into<Option<Value>>) -> Result<Response<K::Response>> {
        self.rt.run(self.inner.create(value))
    }
    /// See [`ActivityRef::list`](super::ActivityRef::list).
    pub fn list(&self) -> Pages<K::Response> {
        self.rt.pages(self.inner.list())
    }
    /// See [`ActivityRef::list_with`](super::ActivityRef::list_with).
    pub fn list_with(&self, query: Query) -> Pages<K::Response> {
        self.rt.pages(self.inner.list_with(query))
    }
    /// See [`ActivityRef::instance`](super::ActivityRef::instance).
    pub fn instance(&self, id: &str) -> ActivityInstance<K> {
        self.rt.handle(self.inner.instance(id))
    }
}

handle!(
    /// One action request or event occurrence; see [`ActivityInstance`](super::ActivityInstance).
    ActivityInstance<K>
);

/// One action request; see [`ActionInstance`](super::ActionInstance).
pub type ActionInstance = ActivityInstance<ActionKind>;
/// One event occurrence; see [`EventInstance`](super::EventInstance).
pub type EventInstance = ActivityInstance<EventKind>;

impl<K: ActivityKind> ActivityInstance<K> {
    /// See [`ActivityInstance::get`](super::ActivityInstance::get).
    pub fn get(&self) -> Result<Response<K::Response>> {
        self.rt.run(self.inner.get())
    }
    /// See [`ActivityInstance::delete`](super::ActivityInstance::delete).
    pub fn delete(&self) -> Result<Response<()>> {
        self.rt.run(self.inner.delete())
    }
}

impl ActionInstance {
    /// See [`ActionInstance::update`](super::ActionInstance::update).
    pub fn update(&self, status: &str, output: impl Into<Option<Value>>) -> Result<Response<ActionResponse>> {
        self.rt.run(self.inner.update(status, output))
    }
}

handle!(
    /// Communications of a space; see [`Communications`](super::Communications).
    Communications
);

impl Communications {
    /// See [`Communications::email`](super::Communications::email).
    pub fn email(&self) -> EmailApi {
        self.rt.handle(self.inner.email())
    }
}

handle!(
    /// E-mail; see [`EmailApi`](super::EmailApi).
    EmailApi
);

impl EmailApi {
    /// See [`EmailApi::send`](super::EmailApi::send).
    pub fn send(&self, email: &Email) -> Result<Response<()>> {
        self.rt.run(self.inner.send(email))
    }
}
