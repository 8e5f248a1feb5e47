//! Things of the things API (WIRE.md A.3–A.5, issue 9): W3C WoT Thing
//! Descriptions, categories, current property values and their history.
//! Pure rules here (shapes, validation, filters, cursors, times); the
//! operations are on [`crate::Platform`] and the SQL in the store
//! ([`crate::store::ThingStore`]).
//!
//! # One record
//!
//! A thing is the application platform's `/api/things` document (the
//! `documents` row of collection `things`): its uid is the document's
//! `uuid`, its `title` the document's `name`. The other TD members live in
//! the document body under their TD names (`description`, `@context`,
//! `@type`, `properties`, `actions`, `events`, `links`, `model`,
//! `categories`) with `client_id` of the OAuth2 client that created it, so
//! `/api/things` reads, renames and deletes the same record, and its search
//! terms serve the TD filters (`title`, `@type`, `model`, `links.*`,
//! `category[]`). Members the application platform stored that are not TD
//! members (`location`, ...) survive a replace through the things API. The
//! record's `created_at`/`updated_at` are `created`/`modified`.
//!
//! Current property values are not in the body but in `thing_status`
//! (one row per property, with the value's number or text beside its JSON
//! for filters and sorting), so a property write touches neither the
//! document nor its search terms; the Thing view composes `status` from it.
//! The history is `thing_history`, keyed `(org, thing, at, property)`. Both
//! go with the thing (foreign keys, `ON DELETE CASCADE`), whichever face
//! deletes it.
//!
//! # The property write path
//!
//! A write ([`crate::Platform::update_properties`]) reads the thing's
//! document on a reader connection (one indexed read; of the JSON only the
//! property affordances are built) and validates the values against their
//! schemas there, off the single SQLite writer; then it commits in one
//! transaction: a check
//! that the document is still the one validated against (else it reads and
//! validates again), an upsert of each current value and, unless
//! `update_history=false`, one history row per value. Statements are cached
//! prepared statements; PostgreSQL writes all values of a call with one
//! statement per table (`unnest` arrays), and SQLite group-commits
//! concurrent writes into shared transactions. The caller hears "stored"
//! only after the commit; then the bus carries a thing `updated` event.

//!
//! # Lists
//!
//! Every list (things, categories, history) takes `limit` (default 50; a
//! larger value than 1000 is clamped to 1000, `0` or a non-number is
//! invalid) and an opaque `next_cursor` or `previous_cursor` ([`cursor`],
//! [`crate::paging`]): keyset pagination on a unique order (the sort keys,
//! then the uid; category names; history `(at, property)`, or `at` for
//! grouped history), so pages never repeat an item, inserts between pages
//! do not shift them, paging always ends, and following a page's
//! `previous_cursor` gives exactly the page before it. Thing lists parse their query pairs into a
//! [`ThingQuery`]; the `/categories/{c}/things` paths add
//! [`ThingFilter::within_category`].
//!
//! # Errors, for the face
//!
//! [`crate::ErrorKind::Invalid`] (400): a TD or category that is not
//! valid, a value outside its property's schema or a write to a property
//! the TD does not declare, a failing or malformed JSON Patch, a malformed
//! cursor, time or filter, a delete without a filter.
//! [`crate::ErrorKind::NotFound`] (404): an unknown thing, category or
//! property, and a thing naming a category that does not exist (create,
//! replace, patch). [`crate::ErrorKind::Conflict`] (409): a category name
//! or given uid that is taken, a history value already present for that
//! property at that instant. Another organization's ids are `NotFound`.

pub mod category;
pub mod cursor;
pub mod filters;
pub mod history;
pub mod model;
pub mod owner;
pub mod schema;
pub mod time;

pub use category::{Category, CategoryDraft};
pub use cursor::{DEFAULT_LIMIT, KeyKind, KeyValue, MAX_LIMIT};
pub use filters::{PropertyFilter, PropertyOp, SortKey, ThingFilter, ThingQuery};
pub use history::{HistoryDelete, HistoryPage, HistoryPoint, HistoryQuery, HistoryRow, HistorySpec};
pub use model::{StoredThing, Thing, ThingModel};
pub use time::AtRange;
