//! The raw query pairs of a request, in order, repeated keys kept
//! (`thingID[]=a&thingID[]=b`) and percent-decoded (`%40type` is `@type`,
//! `property%3Atemperature=gt%3A20` is `property:temperature` = `gt:20`),
//! for the core's query parsers (`ThingQuery::from_pairs`, ...).

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;

use crate::http::error::{ApiError, ErrorCode};

/// The query string as `(key, value)` pairs; an unparseable one is 400.
#[derive(Debug, Clone, Default)]
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<Vec<(String, String)>>::from_request_parts(parts, state).await {
            Ok(Query(pairs)) => Ok(Self(pairs)),
            Err(e) => Err(ApiError::new(
                ErrorCode::InvalidInput,
                format!("the query string does not parse: {}", e.body_text()),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::Request;

    use super::*;

    #[tokio::test]
    async fn repeated_keys_are_kept_in_order_and_decoded() {
        let req = Request::get("/x?thingID%5B%5D=a&thingID[]=b&%40type=T&property%3At=gt%3A20&update_history=False")
            .body(())
            .expect("request");
        let (mut parts, ()) = req.into_parts();
        let QueryPairs(pairs) = QueryPairs::from_request_parts(&mut parts, &()).await.expect("pairs");
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("thingID[]", "a"),
                ("thingID[]", "b"),
                ("@type", "T"),
                ("property:t", "gt:20"),
                ("update_history", "False")
            ]
        );
    }
}
