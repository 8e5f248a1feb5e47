//! Request metrics, and the face's shape for every error response.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;
use metrics::{Counter, Histogram};

use super::error::{ApiError, ErrorCode, ErrorRenderer, error_of};

/// The handles of the request metrics, resolved once per route, method
/// and status and kept for the router's life: a handle costs no label
/// allocation and no registry look-up per request. The label sets are
/// closed (see [`record`]), so this stays small.
#[derive(Clone, Default)]
pub struct RequestMetrics(Arc<RwLock<HashMap<String, RouteMetrics>>>);

/// One route's metrics.
struct RouteMetrics {
    duration: Histogram,
    requests: HashMap<(&'static str, u16), Counter>,
}

impl RequestMetrics {
    /// Counts one request to `route` with `method` answered `status`,
    /// which took `seconds`.
    fn observe(&self, route: &str, method: &'static str, status: u16, seconds: f64) {
        if let Ok(routes) = self.0.read()
            && let Some(known) = routes.get(route)
            && let Some(counter) = known.requests.get(&(method, status))
        {
            counter.increment(1);
            known.duration.record(seconds);
            return;
        }
        let Ok(mut routes) = self.0.write() else { return };
        let known = routes.entry(route.to_owned()).or_insert_with(|| RouteMetrics {
            duration: metrics::histogram!("thingstead_http_request_duration_seconds", "route" => route.to_owned()),
            requests: HashMap::new(),
        });
        known
            .requests
            .entry((method, status))
            .or_insert_with(|| {
                metrics::counter!(
                    "thingstead_http_requests_total",
                    "route" => route.to_owned(),
                    "method" => method,
                    "status" => status.to_string()
                )
            })
            .increment(1);
        known.duration.record(seconds);
    }
}

/// Counts requests by route and status and records their latency. Every
/// label comes from a closed set (route templates, known methods, statuses
/// the server makes): a label taken from the client would let anyone grow
/// the registry, and `/metrics`, without bound.
pub async fn record(State(metrics): State<RequestMetrics>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = method_label(req.method());
    let response = next.run(req).await;
    let route = route.as_ref().map_or("unmatched", |p| p.as_str());
    metrics.observe(
        route,
        method,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// The `method` label: a known method's name, else `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Gives every error response of the routes it wraps the shape of the
/// renderer installed there (see [`crate::http::face`]): an [`ApiError`]
/// (from a handler or an extractor) is rendered again from its code and
/// message, and an error that is not JSON (made by the framework or a
/// layer: 404, 405, 408, 413...) gets the code for its status.
pub async fn render_errors(State(renderer): State<ErrorRenderer>, req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (code, message, headers) = match error_of(response).await {
        Ok(error) => error,
        Err(response) => return response,
    };
    let mut fixed = renderer.render(code, &message, status);
    for name in [header::RETRY_AFTER, header::ALLOW, header::CONNECTION] {
        if let Some(v) = headers.get(&name) {
            fixed.headers_mut().insert(name, v.clone());
        }
    }
    fixed
}

/// 404 for unknown routes.
pub async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::RouteNotFound, "no such route")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_labels_are_a_closed_set() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::OPTIONS), "OPTIONS");
        let made_up = Method::from_bytes(b"QWERTYUIOPASDFGHJKLZXCVBNMQWERTYUIOPASDF").unwrap();
        assert_eq!(method_label(&made_up), "other");
        assert_eq!(method_label(&Method::CONNECT), "other");
        assert_eq!(method_label(&Method::TRACE), "other");
    }
}
