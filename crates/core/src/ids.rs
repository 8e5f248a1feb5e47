//! Typed identifiers: values that cannot be constructed invalid.

use std::fmt;

/// An organization name: `[a-z0-9][a-z0-9-]{0,62}`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct OrgName(String);

impl OrgName {
    /// Parses an organization name.
    pub fn parse(s: &str) -> Result<Self, crate::CoreError> {
        let b = s.as_bytes();
        let ok = !b.is_empty()
            && b.len() <= 63
            && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(crate::CoreError::Invalid(format!(
                "invalid organization name {s:?}: use 1 to 63 characters of [a-z0-9-], starting with a letter or digit"
            )))
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for OrgName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// A resolved tenant: an organization that exists. Only the store makes
/// these, so every tenant-scoped call carries a real tenant.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Tenant {
    pub(crate) id: i64,
    pub(crate) name: OrgName,
}

impl Tenant {
    /// The store's internal id of the organization.
    pub fn id(&self) -> i64 {
        self.id
    }

    /// The organization's name.
    pub fn name(&self) -> &OrgName {
        &self.name
    }

    /// Made by store backends only.
    #[doc(hidden)]
    pub fn from_store(id: i64, name: OrgName) -> Self {
        Self { id, name }
    }
}
