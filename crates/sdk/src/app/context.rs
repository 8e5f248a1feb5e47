//! What every handle of one instance carries: its session and its
//! realtime state (absent with `enable_network(false)`).

use std::sync::Arc;

use thingstead_proto::channel::ChannelId;

use super::channel::Channel;
use super::error::Result;
use super::realtime::Realtime;
use super::session::Session;

#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub(crate) session: Arc<Session>,
    pub(crate) realtime: Option<Arc<Realtime>>,
}

impl Ctx {
    /// A channel of the caller's organization.
    pub(crate) fn channel(&self, name: &str, consumer: bool, system: bool) -> Result<Channel> {
        let org = self.session.auth_now()?.identity.organization.clone();
        Ok(Channel::new(
            self.session.clone(),
            self.realtime.clone(),
            ChannelId::new(org, name, system, consumer),
        ))
    }
}

/// Owned query parameters from borrowed pairs.
pub(crate) fn owned(params: &[(&str, &str)]) -> Vec<(String, String)> {
    params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}
