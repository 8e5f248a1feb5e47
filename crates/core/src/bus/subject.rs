//! Subjects and filters: NATS-style dot-separated tokens, `*` matching one
//! token and `>` the rest. One matcher serves every backend.

use crate::ids::OrgName;

/// The first token of every subject.
pub const ROOT: &str = "thingstead";

/// Whether `subject` matches `pattern` (NATS rules: tokens split on `.`,
/// `*` matches exactly one token, a final `>` matches one or more tokens).
pub fn matches(pattern: &str, subject: &str) -> bool {
    let mut subject = subject.split('.');
    let mut pattern = pattern.split('.').peekable();
    while let Some(p) = pattern.next() {
        if p == ">" && pattern.peek().is_none() {
            return subject.next().is_some();
        }
        match subject.next() {
            Some(s) if p == "*" || p == s => {}
            _ => return false,
        }
    }
    subject.next().is_none()
}

/// A subject token made from input (an id, a username): every byte outside
/// `[A-Za-z0-9_-]` becomes `%XX`, and the empty string becomes `%`, so a
/// token never contains `.`, `*`, `>` or whitespace and distinct inputs
/// stay distinct.
pub fn token(s: &str) -> String {
    if s.is_empty() {
        return "%".into();
    }
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Why a filter is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid bus filter {pattern:?}: {reason}")]
pub struct FilterError {
    /// The pattern given.
    pub pattern: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// What a subscriber wants: one tenant or all, and a subject pattern below
/// the tenant (`message.>`, `sms.*.queued`, `registry.device.*.*`, `>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    full: String,
}

impl Filter {
    /// Events of one tenant whose subject (below `thingstead.<tenant>.`) matches `pattern`.
    pub fn tenant(org: &OrgName, pattern: &str) -> Result<Self, FilterError> {
        Self::build(org.as_str(), pattern)
    }

    /// Events of every tenant whose subject (below `thingstead.<tenant>.`) matches `pattern`.
    pub fn any_tenant(pattern: &str) -> Result<Self, FilterError> {
        Self::build("*", pattern)
    }

    /// Everything.
    pub fn everything() -> Self {
        Self {
            full: format!("{ROOT}.>"),
        }
    }

    fn build(tenant: &str, pattern: &str) -> Result<Self, FilterError> {
        let err = |reason| FilterError {
            pattern: pattern.to_owned(),
            reason,
        };
        let tokens: Vec<&str> = pattern.split('.').collect();
        for (i, t) in tokens.iter().enumerate() {
            if t.is_empty() {
                return Err(err("empty token"));
            }
            if *t == ">" && i + 1 != tokens.len() {
                return Err(err("`>` must be the last token"));
            }
            if *t != ">" && *t != "*" && t.bytes().any(|b| b == b'*' || b == b'>' || b.is_ascii_whitespace()) {
                return Err(err("wildcards must be whole tokens; no whitespace"));
            }
        }
        Ok(Self {
            full: format!("{ROOT}.{tenant}.{pattern}"),
        })
    }

    /// The whole pattern, `thingstead.<tenant|*>.<pattern>`.
    pub fn pattern(&self) -> &str {
        &self.full
    }

    /// Whether a subject passes this filter.
    pub fn matches(&self, subject: &str) -> bool {
        matches(&self.full, subject)
    }

    /// Whether this is [`Filter::everything`], which matches every
    /// subject (all are below the root): no subject need be made for it.
    pub fn is_everything(&self) -> bool {
        self.full.strip_prefix(ROOT) == Some(".>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_like_nats() {
        let yes = [
            ("a.b.c", "a.b.c"),
            ("a.*.c", "a.b.c"),
            ("a.>", "a.b"),
            ("a.>", "a.b.c.d"),
            ("*.*", "a.b"),
            (">", "a"),
            ("thingstead.*.sms.*.queued", "thingstead.acme.sms.7.queued"),
        ];
        let no = [
            ("a.b.c", "a.b"),
            ("a.b", "a.b.c"),
            ("a.*", "a.b.c"),
            ("a.>", "a"),
            ("a.*.c", "a.b.d"),
            ("a.b>", "a.b.c"),
            ("thingstead.acme.>", "thingstead.acme2.message.x"),
            ("thingstead.*.sms.*.queued", "thingstead.acme.message.x"),
        ];
        for (p, s) in yes {
            assert!(matches(p, s), "{p} should match {s}");
        }
        for (p, s) in no {
            assert!(!matches(p, s), "{p} should not match {s}");
        }
    }

    #[test]
    fn tokens_from_input_cannot_add_levels_or_wildcards() {
        assert_eq!(token("3f2a-b_C9"), "3f2a-b_C9");
        assert_eq!(token("a.b"), "a%2Eb");
        assert_eq!(token(">"), "%3E");
        assert_eq!(token("*"), "%2A");
        assert_eq!(token("x y"), "x%20y");
        assert_eq!(token(""), "%");
        assert_ne!(token("%2E"), token("."));
        for t in [token("a.b.>"), token("ü *"), token("")] {
            assert!(!t.is_empty() && !t.contains(['.', '*', '>', ' ']), "{t}");
        }
    }

    #[test]
    fn filters_scope_to_a_tenant_and_reject_bad_patterns() {
        let acme = OrgName::parse("acme").unwrap();
        let f = Filter::tenant(&acme, "message.>").unwrap();
        assert!(f.matches("thingstead.acme.message.u1"));
        assert!(!f.matches("thingstead.other.message.u1"));
        let any = Filter::any_tenant("sms.*.queued").unwrap();
        assert!(any.matches("thingstead.other.sms.1.queued"));
        assert!(!any.matches("thingstead.other.message.u1"));
        assert!(Filter::everything().matches("thingstead.x.registry.org.x.created"));
        for bad in ["", "a..b", ">.a", "a*", "a b"] {
            assert!(Filter::any_tenant(bad).is_err(), "{bad:?}");
        }
    }
}
