//! The things API (IoT Studio compatible, WIRE.md A): OAuth2 client
//! credentials, spaces, categories, WoT things, property values and
//! history, actions, events and e-mail, async-first with a [`blocking`]
//! facade.
//!
//! | what | where |
//! |---|---|
//! | client, tokens | [`ThingsApi`], [`ThingsApiBuilder`], [`ScopedApi`] |
//! | resources | [`Space`], [`Categories`], [`CategoryRef`], [`Things`], [`ThingRef`], [`Properties`], [`PropertyRef`], [`History`], [`Actions`], [`ActionRef`], [`ActionInstance`], [`Events`], [`EventRef`], [`EventInstance`] (the [`Activities`], [`ActivityRef`], [`ActivityInstance`] of each [`ActivityKind`]), [`Communications`], [`EmailApi`] |
//! | models | [`Thing`], [`NewThing`], [`Category`], [`NewCategory`], [`ActionResponse`], [`EventResponse`], [`HistoryItem`], [`ThingPatch`], [`PatchMultiStatus`], [`Email`] |
//! | queries, lists | [`Query`], [`ThingQuery`], [`Op`], [`HistoryQuery`], [`Pages`], [`Page`], [`Paging`] |
//! | results | [`Response`], [`RawResponse`], [`ThingsError`], [`ErrorBody`], [`OAuthError`] |
//! | without async | [`blocking`] |
//!
//! Every call returns a [`Response`] (the typed value and the raw HTTP
//! response) or a [`ThingsError`] (with the raw response when there was
//! one). Lists return [`Pages`], fetched lazily.
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use thingstead::things::{Op, ThingQuery, ThingsApi};
//! # async fn demo() -> thingstead::things::Result<()> {
//! let api = ThingsApi::builder().host("http://127.0.0.1:8080").build()?;
//! api.set_credentials("client-id", "secret", &["thing", "category"]).await?;
//! let space = api.space("acme");
//! let boiler = space.things().create(&serde_json::json!({
//!     "title": "Boiler",
//!     "properties": {"temperature": {"type": "number"}}
//! })).await?.into_inner();
//! space.thing(&boiler.uid).property("temperature").update(21.5).await?;
//! let hot = space.things().list(ThingQuery::new().property("temperature", Op::Gt, 20));
//! let mut hot = std::pin::pin!(hot.stream());
//! while let Some(thing) = hot.try_next().await? {
//!     println!("{} {:?}", thing.uid, thing.status.get("temperature"));
//! }
//! # Ok(()) }
//! ```

mod actions;
mod activities;
mod activity;
mod auth;
pub mod blocking;
mod categories;
mod client;
mod email;
mod error;
mod events;
mod history;
mod models;
mod paging;
mod properties;
mod query;
mod response;
mod scoped;
mod space;
// One module per resource; this one is the things themselves.
#[allow(clippy::module_inception)]
mod things;

pub use actions::{ActionInstance, ActionRef, Actions};
pub use activities::{ActionKind, Activities, ActivityInstance, ActivityKind, ActivityRef, EventKind};
pub use activity::{ActionResponse, EventResponse};
pub use categories::{Categories, CategoryRef};
pub use client::{DEFAULT_HOST, DEFAULT_REFRESH_THRESHOLD, DEFAULT_TIMEOUT, ThingsApi, ThingsApiBuilder};
pub use email::{Communications, EmailApi};
pub use error::{ErrorBody, OAuthError, Result, ThingsError};
pub use events::{EventInstance, EventRef, Events};
pub use history::History;
pub use models::{
    Affordances, Category, Email, HistoryItem, Link, ModelRef, NewCategory, NewThing, PatchMultiStatus, PropertyValues,
    Thing, ThingPatch, ThingType, UpdateHistory,
};
pub use paging::{Page, Pages, Paging};
pub use properties::{Properties, PropertyRef};
pub use query::{HistoryQuery, Op, Query, ThingQuery};
pub use response::{RawResponse, Response};
pub use scoped::ScopedApi;
pub use space::Space;
pub use things::{ThingRef, Things};
