//! Prometheus recorder and per-listener connection gauges.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the process-wide Prometheus recorder once and returns its handle.
/// A second server in the same process (tests) shares it.
pub fn prometheus() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            match builder.install_recorder() {
                Ok(handle) => handle,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed; /metrics will be empty");
                    PrometheusBuilder::new().build_recorder().handle()
                }
            }
        })
        .clone()
}

/// The metric handles of one listener, resolved once (a handle costs no
/// registry look-up per connection).
#[derive(Clone)]
pub struct ListenerMetrics {
    open: metrics::Gauge,
    total: metrics::Counter,
}

impl ListenerMetrics {
    /// Handles for `listener` (`"http"`, `"device_tcp"`).
    pub fn new(listener: &'static str) -> Self {
        Self {
            open: metrics::gauge!("thingstead_open_connections", "listener" => listener),
            total: metrics::counter!("thingstead_connections_total", "listener" => listener),
        }
    }

    /// Counts a new connection, held open until the guard drops.
    pub fn connection(&self) -> ConnectionGuard {
        self.total.increment(1);
        self.open.increment(1.0);
        ConnectionGuard(self.open.clone())
    }
}

/// Holds one open connection in the `thingstead_open_connections` gauge.
pub struct ConnectionGuard(metrics::Gauge);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}
