//! [`ScopedApi`]: a client whose token lives as long as the value (the
//! IoT Studio client's `with API().set_credentials(...)` block).

use super::client::ThingsApi;
use super::error::Result;

/// A [`ThingsApi`] with its own client credentials whose token is revoked
/// when the scope ends: explicitly with [`close`](ScopedApi::close)
/// (awaited, errors reported), or best-effort on drop (a revocation task
/// spawned on the current tokio runtime, or on a short-lived thread
/// without one; drop never blocks). Dereferences to [`ThingsApi`].
///
/// ```no_run
/// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
/// let scoped = api.scoped_credentials("client-id", "secret", &["thing"]).await?;
/// let things = scoped.space("acme").things().list(Default::default()).collect_all(100).await?;
/// scoped.close().await?; // the token is revoked
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ScopedApi {
    api: ThingsApi,
    /// Whether drop still has to revoke the token.
    armed: bool,
}

impl ScopedApi {
    pub(crate) fn new(api: ThingsApi) -> Self {
        Self { api, armed: true }
    }

    /// Revokes the token now and ends the scope.
    ///
    /// ```no_run
    /// # async fn demo(scoped: thingstead::things::ScopedApi) -> thingstead::things::Result<()> {
    /// scoped.close().await?;
    /// # Ok(()) }
    /// ```
    pub async fn close(mut self) -> Result<()> {
        self.armed = false;
        self.api.revoke_token().await
    }
}

impl std::ops::Deref for ScopedApi {
    type Target = ThingsApi;
    fn deref(&self) -> &ThingsApi {
        &self.api
    }
}

impl Drop for ScopedApi {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let api = self.api.clone();
        let revoke = async move {
            if let Err(e) = api.revoke_token().await {
                tracing::warn!("revoking the token of a dropped ScopedApi: {e}");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(revoke);
            }
            Err(_) => {
                let spawned = std::thread::Builder::new()
                    .name("thingstead-revoke".into())
                    .spawn(
                        move || match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                            Ok(runtime) => runtime.block_on(revoke),
                            Err(e) => tracing::warn!("cannot revoke the token of a dropped ScopedApi: {e}"),
                        },
                    );
                if let Err(e) = spawned {
                    tracing::warn!("cannot revoke the token of a dropped ScopedApi: {e}");
                }
            }
        }
    }
}
