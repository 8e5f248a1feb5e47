//! Scopes of the things API (`/spaces/{space}/...`, WIRE.md A): what an
//! OAuth2 client token may do, and the one check every route makes,
//! [`Principal::allows`].
//!
//! | scope | grants |
//! |---|---|
//! | [`THING`] (`thing`) | read and write things, their properties, property history, actions and events |
//! | [`THING_READ`] (`thing.read`) | read the same |
//! | [`CATEGORY`] (`category`) | read and write categories |
//! | [`CATEGORY_READ`] (`category.read`) | read categories |
//! | [`EMAIL`] (`email`) | send mail (`/spaces/{s}/communications/email`) |
//!
//! Who gets what, in the principal's own organization only (a token of
//! another organization is refused before any scope is looked at):
//!
//! - an OAuth2 client ([`Actor::Client`]): the scopes of its token, which
//!   are those it asked for at `POST /oauth2/token`, or all its allowed
//!   scopes when it asked for none. A client token with no scope may do
//!   nothing;
//! - a user ([`Actor::User`], a token from `POST /api/auth/login`): every scope;
//! - a consumer app ([`Actor::ConsumerApp`]): the read scopes
//!   (`thing.read`, `category.read`);
//! - a device ([`Actor::Device`]): no scope; it may only write the
//!   properties of the things it owns ([`Principal::may_write_properties_of`]);
//! - a device waiting to be paired, and any restricted token: nothing.
//!
//! A client is made with scopes of this table only
//! (`thingstead admin client create` refuses any other name); a client
//! made by an older version with other names keeps them in its tokens,
//! where they grant nothing.

use crate::identity::{Actor, Principal};

/// Read and write things (with properties, history, actions, events).
pub const THING: &str = "thing";
/// Read things (with properties, history, actions, events).
pub const THING_READ: &str = "thing.read";
/// Read and write categories.
pub const CATEGORY: &str = "category";
/// Read categories.
pub const CATEGORY_READ: &str = "category.read";
/// Send mail through the space's communications.
pub const EMAIL: &str = "email";

/// Every scope this server knows.
pub const ALL: &[&str] = &[THING, THING_READ, CATEGORY, CATEGORY_READ, EMAIL];

/// What a request touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// Things, and everything under a thing: properties, property
    /// history, actions, events.
    Things,
    /// Categories.
    Categories,
    /// Outgoing mail.
    Email,
}

/// Whether a request reads or changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// GET.
    Read,
    /// POST, PUT, PATCH, DELETE.
    Write,
}

/// What one route needs: a resource and an access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    /// The resource.
    pub resource: Resource,
    /// The access.
    pub access: Access,
}

impl Need {
    /// Reading `resource`.
    pub const fn read(resource: Resource) -> Self {
        Self {
            resource,
            access: Access::Read,
        }
    }

    /// Changing `resource`.
    pub const fn write(resource: Resource) -> Self {
        Self {
            resource,
            access: Access::Write,
        }
    }

    /// Whether holding `scope` grants this.
    pub fn granted_by(self, scope: &str) -> bool {
        matches!(
            (self.resource, self.access, scope),
            (Resource::Things, _, THING)
                | (Resource::Things, Access::Read, THING_READ)
                | (Resource::Categories, _, CATEGORY)
                | (Resource::Categories, Access::Read, CATEGORY_READ)
                | (Resource::Email, _, EMAIL)
        )
    }

    /// The scopes that grant this, for an error message.
    pub fn granting_scopes(self) -> Vec<&'static str> {
        ALL.iter().copied().filter(|s| self.granted_by(s)).collect()
    }
}

impl Principal {
    /// Whether this principal may do `need` in its own organization (the
    /// table of the [module docs](crate::scopes)). The caller checks the
    /// organization first.
    pub fn allows(&self, need: Need) -> bool {
        if self.is_restricted() {
            return false;
        }
        match self.actor() {
            Actor::User { .. } => true,
            Actor::Client { .. } => self.scopes().iter().any(|s| need.granted_by(s)),
            Actor::ConsumerApp { .. } => need.access == Access::Read && need.resource != Resource::Email,
            Actor::Device { .. } | Actor::Pairing { .. } => false,
        }
    }

    /// Whether this principal may write the properties of a thing owned by
    /// the device `owner` (if any): with [`THING`] write access, or as that
    /// device itself. The hook for devices updating their own things.
    pub fn may_write_properties_of(&self, owner: Option<&str>) -> bool {
        if self.allows(Need::write(Resource::Things)) {
            return true;
        }
        match (self.actor(), owner) {
            (Actor::Device { uuid }, Some(owner)) => !self.is_restricted() && uuid == owner,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_scopes_grant_reading_and_read_scopes_only_reading() {
        let things_read = Need::read(Resource::Things);
        let things_write = Need::write(Resource::Things);
        assert!(things_read.granted_by(THING) && things_write.granted_by(THING));
        assert!(things_read.granted_by(THING_READ));
        assert!(!things_write.granted_by(THING_READ));
        assert!(!things_read.granted_by(CATEGORY));
        assert!(Need::write(Resource::Categories).granted_by(CATEGORY));
        assert!(!Need::write(Resource::Categories).granted_by(CATEGORY_READ));
        assert!(Need::write(Resource::Email).granted_by(EMAIL));
        assert!(!Need::write(Resource::Email).granted_by(THING));
        assert!(!things_read.granted_by("thing.read.extra"));
        assert_eq!(things_read.granting_scopes(), [THING, THING_READ]);
    }
}
