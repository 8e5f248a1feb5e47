//! The SMS gateway: a durable outbox (in the store), a dispatcher with
//! retries and exponential backoff, and the providers it sends through.

pub mod dispatcher;
pub mod provider;
pub mod smpp;
pub mod webhook;

use std::sync::Arc;

use crate::settings::{SmsProviderKind, SmsSettings};
use provider::SmsProvider;

/// The provider the settings name, or `None` when SMS should stay queued.
pub fn provider_for(settings: &SmsSettings) -> Result<Option<Arc<dyn SmsProvider>>, String> {
    Ok(match settings.provider {
        SmsProviderKind::None => None,
        SmsProviderKind::Smpp => {
            settings.smpp.validate()?;
            Some(Arc::new(smpp::SmppProvider::new(settings.smpp.clone())))
        }
        SmsProviderKind::Webhook => {
            settings.webhook.validate()?;
            Some(Arc::new(webhook::WebhookProvider::new(settings.webhook.clone())))
        }
    })
}
