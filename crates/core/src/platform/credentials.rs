//! Users, consumer apps, OAuth2 clients and API keys.

use serde::Serialize;

use super::Platform;
use crate::CoreError;
use crate::bus::{Change, RegistryKind};
use crate::ids::Tenant;
use crate::records::{ApiKeyRecord, AppRecord, ClientRecord, UserRecord};
use crate::secrets;

/// A consumer app just created: the only time its api key is shown.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedApp {
    /// uuid.
    pub uuid: String,
    /// name.
    pub name: String,
    /// The api key (also the HS256 key of its login tokens).
    pub api_key: String,
}

/// An OAuth2 client just created: the only time its secret is shown.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedClient {
    /// The client id.
    pub client_id: String,
    /// The client secret (stored hashed).
    pub client_secret: String,
    /// Scopes it may be granted.
    pub scopes: Vec<String>,
}

/// An API key just created: the only time it is shown.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedApiKey {
    /// Its id, for deletion.
    pub id: String,
    /// The key (stored hashed).
    pub apikey: String,
}

fn check_username(u: &str) -> Result<(), CoreError> {
    if u.is_empty() || u.chars().count() > 64 || u.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(CoreError::Invalid(
            "a username is 1 to 64 characters without spaces".into(),
        ));
    }
    Ok(())
}

/// A client's scopes: at least one, each a scope of the things API
/// ([`crate::scopes::ALL`]); a client without a scope could do nothing,
/// and a misspelt one would grant nothing, silently.
fn check_scopes(scopes: &[String]) -> Result<(), CoreError> {
    let known = || crate::scopes::ALL.join(", ");
    if scopes.is_empty() {
        return Err(CoreError::Invalid(format!(
            "give a client at least one scope (of: {})",
            known()
        )));
    }
    if let Some(bad) = scopes.iter().find(|s| !crate::scopes::ALL.contains(&s.as_str())) {
        let shown: String = bad.chars().take(64).collect();
        return Err(CoreError::Invalid(format!(
            "unknown scope {shown:?}: a client's scopes are among {}",
            known()
        )));
    }
    Ok(())
}

/// A display name: given, or derived from a uuid.
pub(crate) fn display_name(name: Option<&str>, kind: &str, uuid: &str) -> Result<String, CoreError> {
    match name {
        Some(n) if n.trim().is_empty() || n.chars().count() > 256 => {
            Err(CoreError::Invalid("a name is 1 to 256 characters".into()))
        }
        Some(n) => Ok(n.to_owned()),
        None => Ok(format!("{kind}-{}", &uuid[..8])),
    }
}

impl Platform {
    /// Creates a user with an argon2id-hashed password.
    pub async fn create_user(&self, tenant: &Tenant, username: &str, password: &str) -> Result<UserRecord, CoreError> {
        check_username(username)?;
        if password.len() < 8 || password.len() > 1024 {
            return Err(CoreError::Invalid("a password is 8 to 1024 bytes".into()));
        }
        let pw = password.to_owned();
        // Hashing fails only on the server's side (no randomness, a crashed task).
        let hash = tokio::task::spawn_blocking(move || secrets::hash_password(&pw))
            .await
            .map_err(|e| CoreError::Internal(format!("password hashing task: {e}")))?
            .map_err(|e| CoreError::Internal(format!("password hashing: {e}")))?;
        self.store.create_user(tenant, username, &hash).await?;
        self.changed(tenant.name(), RegistryKind::User, username, Change::Created)
            .await;
        let users = self.store.list_users(tenant).await?;
        users
            .into_iter()
            .find(|u| u.username == username)
            .ok_or_else(|| CoreError::NotFound(format!("user {username}")))
    }

    /// Lists users.
    pub async fn list_users(&self, tenant: &Tenant) -> Result<Vec<UserRecord>, CoreError> {
        Ok(self.store.list_users(tenant).await?)
    }

    /// Deletes a user.
    pub async fn delete_user(&self, tenant: &Tenant, username: &str) -> Result<(), CoreError> {
        self.store.delete_user(tenant, username).await?;
        self.changed(tenant.name(), RegistryKind::User, username, Change::Deleted)
            .await;
        Ok(())
    }

    /// Checks a user's password.
    pub async fn verify_user(&self, tenant: &Tenant, username: &str, password: &str) -> Result<bool, CoreError> {
        let Some(hash) = self.store.user_password_hash(tenant, username).await? else {
            return Ok(false);
        };
        let pw = password.to_owned();
        tokio::task::spawn_blocking(move || secrets::verify_password(&pw, &hash))
            .await
            .map_err(|e| CoreError::Internal(format!("password check task: {e}")))
    }

    /// Creates a consumer app with a fresh api key.
    pub async fn create_app(&self, tenant: &Tenant, name: Option<&str>) -> Result<CreatedApp, CoreError> {
        let uuid = uuid::Uuid::new_v4().to_string();
        let name = display_name(name, "app", &uuid)?;
        let api_key = secrets::random_hex(32);
        self.store.create_app(tenant, &uuid, &name, &api_key).await?;
        self.changed(tenant.name(), RegistryKind::App, &uuid, Change::Created)
            .await;
        Ok(CreatedApp { uuid, name, api_key })
    }

    /// Lists consumer apps.
    pub async fn list_apps(&self, tenant: &Tenant) -> Result<Vec<AppRecord>, CoreError> {
        Ok(self.store.list_apps(tenant).await?)
    }

    /// Deletes a consumer app.
    pub async fn delete_app(&self, tenant: &Tenant, uuid: &str) -> Result<(), CoreError> {
        self.store.delete_app(tenant, uuid).await?;
        self.changed(tenant.name(), RegistryKind::App, uuid, Change::Deleted)
            .await;
        Ok(())
    }

    /// Creates an OAuth2 client; the secret is stored hashed.
    pub async fn create_client(&self, tenant: &Tenant, scopes: &[String]) -> Result<CreatedClient, CoreError> {
        check_scopes(scopes)?;
        let client_id = format!("ts-{}", secrets::random_lower_alnum(20));
        let client_secret = secrets::random_hex(32);
        self.store
            .create_client(tenant, &client_id, &secrets::token_hash(&client_secret), scopes)
            .await?;
        self.changed(tenant.name(), RegistryKind::Client, &client_id, Change::Created)
            .await;
        Ok(CreatedClient {
            client_id,
            client_secret,
            scopes: scopes.to_vec(),
        })
    }

    /// Lists OAuth2 clients.
    pub async fn list_clients(&self, tenant: &Tenant) -> Result<Vec<ClientRecord>, CoreError> {
        Ok(self.store.list_clients(tenant).await?)
    }

    /// Deletes an OAuth2 client.
    pub async fn delete_client(&self, tenant: &Tenant, client_id: &str) -> Result<(), CoreError> {
        self.store.delete_client(tenant, client_id).await?;
        self.changed(tenant.name(), RegistryKind::Client, client_id, Change::Deleted)
            .await;
        Ok(())
    }

    /// Creates an API key for the messaging REST API; stored hashed.
    pub async fn create_api_key(&self, tenant: &Tenant) -> Result<CreatedApiKey, CoreError> {
        let apikey = secrets::random_hex(24);
        let id = uuid::Uuid::new_v4().to_string();
        self.store
            .create_api_key(tenant, &id, &apikey[..6], &secrets::token_hash(&apikey))
            .await?;
        self.changed(tenant.name(), RegistryKind::Apikey, &id, Change::Created)
            .await;
        Ok(CreatedApiKey { id, apikey })
    }

    /// Lists API keys (id and prefix).
    pub async fn list_api_keys(&self, tenant: &Tenant) -> Result<Vec<ApiKeyRecord>, CoreError> {
        Ok(self.store.list_api_keys(tenant).await?)
    }

    /// Deletes an API key.
    pub async fn delete_api_key(&self, tenant: &Tenant, id: &str) -> Result<(), CoreError> {
        self.store.delete_api_key(tenant, id).await?;
        self.changed(tenant.name(), RegistryKind::Apikey, id, Change::Deleted)
            .await;
        Ok(())
    }

    /// The tenant an API key belongs to. The key is looked up by its
    /// SHA-256, so no secret comparison happens in application code.
    pub async fn authenticate_api_key(&self, apikey: &str) -> Result<Tenant, CoreError> {
        if apikey.is_empty() || apikey.len() > 256 {
            return Err(CoreError::Unauthorized("invalid API key".into()));
        }
        self.store
            .tenant_by_api_key_hash(&secrets::token_hash(apikey))
            .await?
            .ok_or_else(|| CoreError::Unauthorized("invalid API key".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::check_scopes;

    #[test]
    fn scopes_are_known_names_and_an_unknown_one_is_quoted_bounded() {
        assert!(check_scopes(&["thing".into(), "category.read".into()]).is_ok());
        assert!(check_scopes(&[]).is_err());
        let long = "x".repeat(10_000);
        let e = check_scopes(&[long]).unwrap_err().to_string();
        assert!(
            e.len() < 300 && e.contains(&"x".repeat(64)) && !e.contains(&"x".repeat(65)),
            "{e}"
        );
    }
}
