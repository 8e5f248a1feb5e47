//! Sends queued SMS through the provider. It scans for due SMS when woken
//! by an enqueue (`BusEvent::SmsQueued`), when the poll interval passes and
//! when a retry it scheduled falls due; other bus events (device messages)
//! do not wake it. Each attempt's outcome is recorded (sent with the
//! provider's id, queued again with a later `next_attempt_at`, or failed
//! with a reason) and counted in `activity::ACTIVITY`; every scan counts in
//! `thingstead_sms_scans_total`.
//!
//! Several nodes may share one store: each scan *claims* its SMS for this
//! node for [`LEASE_MS`] (atomically in the store), so no two nodes send one
//! SMS; recording the outcome clears the claim. A node that dies mid-send
//! leaves its claims to expire, then another node sends them. A batch stops
//! sending once less than `SEND_MARGIN_MS` of its lease is left (the rest
//! is claimed again by the next scan), so a claim never runs out mid-send
//! unless one send takes longer than that margin; if one does, and another
//! node has claimed the SMS meanwhile, the store refuses this node's
//! outcome (it records only the claim holder's) and this node logs it.

use std::sync::Arc;
use std::time::Duration;

use thingstead_core::bus::{Filter, RecvError, Subscriber};
use thingstead_core::records::{SmsRecord, SmsState, SmsUpdate};
use thingstead_core::{ErrorKind, Platform};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::provider::{OutboundSms, SmsProvider, SmsSendError};
use crate::activity::{ACTIVITY, SmsOutcome};
use crate::settings::SmsSettings;

/// SMS taken per scan.
const BATCH: u32 = 64;

/// How long a scan's claim on its SMS lasts (ms).
pub const LEASE_MS: i64 = 120_000;

/// A batch sends no more once less than this is left of its lease (ms).
const SEND_MARGIN_MS: i64 = 60_000;

/// Delay before attempt `attempts + 1`: initial * 2^(attempts-1), capped.
pub fn backoff_ms(settings: &SmsSettings, attempts: u32) -> u64 {
    let exp = attempts.saturating_sub(1).min(30);
    settings
        .backoff_initial_ms
        .saturating_mul(1u64 << exp)
        .min(settings.backoff_max_ms)
}

/// What one scan found.
#[derive(Debug, Default)]
struct Scan {
    /// A whole batch was due: more may be waiting.
    full: bool,
    /// The earliest retry this scan scheduled (epoch ms).
    next_retry_ms: Option<i64>,
}

/// Runs until `token` is cancelled, claiming SMS as node `node`.
pub async fn run(
    platform: Platform,
    provider: Arc<dyn SmsProvider>,
    settings: SmsSettings,
    node: Arc<str>,
    token: CancellationToken,
) {
    tracing::info!(provider = provider.name(), node = %node, "SMS dispatcher started");
    // Only SMS enqueues (of every tenant) wake it: the filter is on the subject.
    let mut events = Filter::any_tenant("sms.*.queued")
        .inspect_err(|e| tracing::error!(error = %e, "SMS dispatcher cannot subscribe; it polls only"))
        .ok()
        .map(|f| platform.events().subscribe(f));
    let poll = Duration::from_millis(settings.poll_interval_ms.max(10));
    // The earliest retry scheduled and not yet scanned for (epoch ms).
    let mut next_retry_ms: Option<i64> = None;
    loop {
        metrics::counter!("thingstead_sms_scans_total").increment(1);
        let scanned_at = thingstead_core::now_ms();
        let scan = dispatch_due(&platform, provider.as_ref(), &settings, &node, &token)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "SMS dispatch scan failed");
                Scan::default()
            });
        // A retry due before this scan began was sent by it.
        next_retry_ms = next_retry_ms.filter(|&at| at > scanned_at);
        next_retry_ms = match (next_retry_ms, scan.next_retry_ms) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if token.is_cancelled() {
            break;
        }
        if scan.full {
            continue;
        }
        let mut wake = Instant::now() + poll;
        if let Some(at) = next_retry_ms {
            let in_ms = u64::try_from(at - thingstead_core::now_ms()).unwrap_or(0);
            wake = wake.min(Instant::now() + Duration::from_millis(in_ms));
        }
        if !wait_for_work(&mut events, wake, &token).await {
            break;
        }
    }
    tracing::info!("SMS dispatcher stopped");
}

/// Waits until `wake` or an enqueue; `false` when cancelled. The
/// subscription carries only enqueues; a lagged one (an enqueue may be among the
/// missed events) counts as an enqueue.
async fn wait_for_work(events: &mut Option<Subscriber>, wake: Instant, token: &CancellationToken) -> bool {
    loop {
        let next_event = async {
            match events.as_mut() {
                Some(rx) => rx.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = token.cancelled() => return false,
            _ = tokio::time::sleep_until(wake) => return true,
            ev = next_event => match ev {
                Ok(_) | Err(RecvError::Lagged(_)) => return true,
                Err(RecvError::Closed) => *events = None,
            },
        }
    }
}

async fn dispatch_due(
    platform: &Platform,
    provider: &dyn SmsProvider,
    settings: &SmsSettings,
    node: &str,
    token: &CancellationToken,
) -> Result<Scan, thingstead_core::CoreError> {
    let claimed_at = thingstead_core::now_ms();
    let due = platform.claim_due_sms(node, LEASE_MS, BATCH).await?;
    let mut scan = Scan {
        full: due.len() >= BATCH as usize,
        next_retry_ms: None,
    };
    for (tenant, sms) in due {
        if token.is_cancelled() {
            break;
        }
        if thingstead_core::now_ms() > claimed_at + LEASE_MS - SEND_MARGIN_MS {
            // The rest stay claimed by this node: the next scan takes them again.
            scan.full = true;
            break;
        }
        let update = attempt(provider, settings, &sms).await;
        if update.state == SmsState::Queued {
            let at = update.next_attempt_at;
            scan.next_retry_ms = Some(scan.next_retry_ms.map_or(at, |t: i64| t.min(at)));
        }
        match platform.update_sms(&tenant, sms.id, node, update).await {
            Ok(()) => {}
            // The send outlived the lease and another node took the SMS:
            // its outcome stands, this one is only logged.
            Err(e) if e.kind() == ErrorKind::Conflict => {
                tracing::warn!(sms = sms.id, org = %sms.org, error = %e, "SMS outcome not recorded");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(scan)
}

async fn attempt(provider: &dyn SmsProvider, settings: &SmsSettings, sms: &SmsRecord) -> SmsUpdate {
    let out = OutboundSms {
        id: sms.id,
        org: sms.org.clone(),
        device_uuid: sms.device_uuid.clone(),
        destination: sms.destination.clone(),
        text: sms.text.clone(),
    };
    let attempts = sms.attempts + 1;
    let now = thingstead_core::now_ms();
    match provider.send(&out).await {
        Ok(id) => {
            tracing::info!(sms = sms.id, org = %sms.org, provider_id = %id, "SMS sent");
            metrics::counter!("thingstead_sms_total", "state" => "sent").increment(1);
            ACTIVITY.sms_outcome(SmsOutcome::Sent);
            SmsUpdate {
                state: SmsState::Sent,
                attempts,
                provider_id: Some(id),
                reason: None,
                next_attempt_at: now,
            }
        }
        Err(SmsSendError::Transient(reason)) if attempts < i64::from(settings.max_attempts) => {
            let delay = backoff_ms(settings, attempts as u32) as i64;
            tracing::warn!(sms = sms.id, attempts, retry_in_ms = delay, %reason, "SMS send failed; will retry");
            metrics::counter!("thingstead_sms_total", "state" => "retry").increment(1);
            ACTIVITY.sms_outcome(SmsOutcome::Retried);
            SmsUpdate {
                state: SmsState::Queued,
                attempts,
                provider_id: None,
                reason: Some(reason),
                next_attempt_at: now + delay,
            }
        }
        Err(e) => {
            tracing::warn!(sms = sms.id, attempts, error = %e, "SMS failed");
            metrics::counter!("thingstead_sms_total", "state" => "failed").increment(1);
            ACTIVITY.sms_outcome(SmsOutcome::Failed);
            SmsUpdate {
                state: SmsState::Failed,
                attempts,
                provider_id: None,
                reason: Some(e.to_string()),
                next_attempt_at: now,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let s = SmsSettings {
            backoff_initial_ms: 100,
            backoff_max_ms: 1000,
            ..Default::default()
        };
        assert_eq!(backoff_ms(&s, 1), 100);
        assert_eq!(backoff_ms(&s, 2), 200);
        assert_eq!(backoff_ms(&s, 4), 800);
        assert_eq!(backoff_ms(&s, 5), 1000);
        assert_eq!(backoff_ms(&s, 60), 1000);
    }
}
