//! Who is calling: the [`Principal`] every face asks the core for, and the
//! [`Login`] and [`Session`] values of [`crate::Platform::login`].

use crate::CoreError;
use crate::ids::Tenant;

/// The scope of a restricted token: it may only fetch layout and content
/// delivery URLs, and cannot be refreshed into a full session.
pub const RESTRICTED_SCOPE: &str = "restricted";

/// The kind of actor behind a principal, with its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A user of an organization.
    User {
        /// Username.
        username: String,
    },
    /// A device.
    Device {
        /// Device uuid.
        uuid: String,
    },
    /// A consumer app.
    ConsumerApp {
        /// App uuid.
        uuid: String,
    },
    /// A device waiting to be paired: it belongs to no organization yet.
    Pairing {
        /// A random id made at login.
        id: String,
    },
    /// An OAuth2 client.
    Client {
        /// Client id.
        client_id: String,
    },
}

impl Actor {
    /// The token `kind` of this actor.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::User { .. } => "user",
            Self::Device { .. } => "device",
            Self::ConsumerApp { .. } => "consumerApp",
            Self::Pairing { .. } => "pairing",
            Self::Client { .. } => "client",
        }
    }

    /// The actor's id (a token's `sub`).
    pub fn id(&self) -> &str {
        match self {
            Self::User { username } => username,
            Self::Device { uuid } | Self::ConsumerApp { uuid } => uuid,
            Self::Pairing { id } => id,
            Self::Client { client_id } => client_id,
        }
    }
}

/// An authenticated caller. Only the core makes these.
///
/// A [`Actor::Pairing`] principal has no organization: [`Principal::tenant`]
/// refuses it, so no tenant-scoped call can be made with a pairing identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    tenant: Option<Tenant>,
    actor: Actor,
    scopes: Vec<String>,
}

impl Principal {
    /// A principal of an organization.
    pub(crate) fn of_tenant(tenant: Tenant, actor: Actor, scopes: Vec<String>) -> Self {
        Self {
            tenant: Some(tenant),
            actor,
            scopes,
        }
    }

    /// A device waiting to be paired (no organization).
    pub(crate) fn pairing(id: String, scopes: Vec<String>) -> Self {
        Self {
            tenant: None,
            actor: Actor::Pairing { id },
            scopes,
        }
    }

    /// The organization; `Forbidden` for a device waiting to be paired.
    pub fn tenant(&self) -> Result<&Tenant, CoreError> {
        self.tenant
            .as_ref()
            .ok_or_else(|| CoreError::Forbidden("a device waiting to be paired belongs to no organization".into()))
    }

    /// The organization's name, empty for a pairing identity.
    pub fn org(&self) -> &str {
        self.tenant.as_ref().map_or("", |t| t.name().as_str())
    }

    /// Who it is.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// What it may do (empty: everything its actor may do).
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// Whether this is a restricted (delivery URL only) identity.
    pub fn is_restricted(&self) -> bool {
        self.scopes.iter().any(|s| s == RESTRICTED_SCOPE)
    }
}

/// How a caller logs in (EXP `POST /api/auth/login`).
#[derive(Clone)]
pub enum Login {
    /// `{"username", "password", "organization"}`.
    User {
        /// Username.
        username: String,
        /// Password.
        password: String,
        /// Organization name.
        organization: String,
    },
    /// `{"token": <JWT>}`: the raw compact JWT a device or consumer app
    /// signed. Its `type` claim (`device` or `consumerApp`) says which; a
    /// device token with `uuid` `"_"` signed with `"_"` and `allowPairing:
    /// true` asks for pairing.
    Token(String),
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::User {
                username, organization, ..
            } => f
                .debug_struct("User")
                .field("username", username)
                .field("organization", organization)
                .finish_non_exhaustive(),
            Self::Token(_) => f.write_str("Token(..)"),
        }
    }
}

/// What a login or refresh returns.
#[derive(Debug, Clone)]
pub struct Session {
    /// The bearer token.
    pub token: String,
    /// When `token` expires, epoch milliseconds (absolute).
    pub expires_at_ms: i64,
    /// A token with scope [`RESTRICTED_SCOPE`], for delivery URLs (`_rt=`).
    pub restricted_token: String,
    /// Who logged in.
    pub principal: Principal,
}
