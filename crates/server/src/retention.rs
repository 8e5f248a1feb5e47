//! Enforces per-organization retention in the background: messages
//! (`admin org retention`), the events and property history of spaces
//! (`admin space retention`), and the revocations of OAuth2 tokens that
//! have expired. Every node runs this task. Nodes
//! sharing one store (PostgreSQL) sweep one at a time: a node sweeps only
//! while it holds the store lease [`LEASE`], which it renews each tick and
//! which outlives two ticks, so a dead node's turn passes to another.

use std::sync::Arc;
use std::time::Duration;

use thingstead_core::Platform;
use tokio_util::sync::CancellationToken;

/// The store lease a node holds while it is the one that sweeps.
pub(crate) const LEASE: &str = "retention";

/// Sweeps every `interval_secs` until `token` is cancelled. With `node`,
/// sweeps only while that node holds the [`LEASE`] (a shared store);
/// without, always (an embedded store has one server).
pub(crate) async fn run(platform: Platform, interval_secs: u64, node: Option<Arc<str>>, token: CancellationToken) {
    let interval_secs = interval_secs.max(1);
    let ttl_ms = i64::try_from(interval_secs.saturating_mul(2_000)).unwrap_or(i64::MAX);
    let mut tick = tokio::time::interval(Duration::from_secs(interval_secs));
    loop {
        tokio::select! {
            _ = token.cancelled() => break,
            _ = tick.tick() => {}
        }
        if let Some(node) = &node {
            match platform.try_lease(LEASE, node, ttl_ms).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "retention lease check failed");
                    continue;
                }
            }
        }
        match platform.enforce_retention().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "retention removed old messages"),
            Err(e) => tracing::warn!(error = %e, "retention sweep failed"),
        }
        // Spaces' limits on events and property history (`admin space retention`).
        match platform.enforce_space_retention().await {
            Ok(s) if s == thingstead_core::RetentionSweep::default() => {}
            Ok(s) => tracing::info!(
                events = s.events,
                history = s.history,
                "retention removed old events and property history"
            ),
            Err(e) => tracing::warn!(error = %e, "space retention sweep failed"),
        }
        // Revocations of OAuth2 tokens that have expired since (refused as
        // expired anyway): without this they would go only when another
        // token is revoked.
        match platform.prune_expired_token_revocations().await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(pruned = n, "retention removed revocations of expired tokens"),
            Err(e) => tracing::warn!(error = %e, "pruning token revocations failed"),
        }
    }
}
