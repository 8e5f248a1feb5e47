//! Sends queued SMS through the provider: woken by every enqueue and by a
//! poll tick; each attempt's outcome is recorded (sent with the provider's
//! id, queued again with a later `next_attempt_at`, or failed with a reason).

use std::sync::Arc;
use std::time::Duration;

use thingstead_core::Platform;
use thingstead_core::bus::BusEvent;
use thingstead_core::records::{SmsRecord, SmsState, SmsUpdate};
use tokio_util::sync::CancellationToken;

use super::provider::{OutboundSms, SmsProvider, SmsSendError};
use crate::settings::SmsSettings;

/// SMS taken per scan.
const BATCH: u32 = 64;

/// Delay before attempt `attempts + 1`: initial * 2^(attempts-1), capped.
pub fn backoff_ms(settings: &SmsSettings, attempts: u32) -> u64 {
    let exp = attempts.saturating_sub(1).min(30);
    settings
        .backoff_initial_ms
        .saturating_mul(1u64 << exp)
        .min(settings.backoff_max_ms)
}

/// Runs until `token` is cancelled.
pub async fn run(platform: Platform, provider: Arc<dyn SmsProvider>, settings: SmsSettings, token: CancellationToken) {
    tracing::info!(provider = provider.name(), "SMS dispatcher started");
    let mut events = platform.bus().subscribe();
    let poll = Duration::from_millis(settings.poll_interval_ms.max(10));
    loop {
        if let Err(e) = dispatch_due(&platform, provider.as_ref(), &settings, &token).await {
            tracing::warn!(error = %e, "SMS dispatch scan failed");
        }
        tokio::select! {
            _ = token.cancelled() => break,
            _ = tokio::time::sleep(poll) => {}
            ev = events.recv() => {
                // Any wake-up (an enqueue, or a lag notice) leads to a scan.
                if let Ok(BusEvent::SmsQueued { .. }) | Err(_) = ev {}
            }
        }
    }
    tracing::info!("SMS dispatcher stopped");
}

async fn dispatch_due(
    platform: &Platform,
    provider: &dyn SmsProvider,
    settings: &SmsSettings,
    token: &CancellationToken,
) -> Result<(), thingstead_core::CoreError> {
    for (tenant, sms) in platform.due_sms(BATCH).await? {
        if token.is_cancelled() {
            break;
        }
        let update = attempt(provider, settings, &sms).await;
        platform.update_sms(&tenant, sms.id, update).await?;
    }
    Ok(())
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
