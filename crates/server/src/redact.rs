//! Secrets out of text that is logged or shown to tenants.
//!
//! URLs carry secrets in two places: the userinfo (`https://user:pw@host`)
//! and the query (`?token=...`). [`url`] masks both; use it for every URL
//! (webhook, SMSC address) that goes into a log line, an error reason or
//! the printed settings.

/// What a masked secret reads as.
pub const MASK: &str = "****";

/// `s` with the userinfo and every query value masked, and the fragment
/// dropped: `https://u:pw@h/p?token=x` reads `https://****@h/p?token=****`.
///
/// Text that is not a URL is masked the same way by its shape: everything
/// before the last `@` of the authority and every query value.
pub fn url(s: &str) -> String {
    if s.contains("://")
        && let Ok(mut u) = reqwest::Url::parse(s)
        && !u.cannot_be_a_base()
    {
        if !u.username().is_empty() || u.password().is_some() {
            let _ = u.set_password(None);
            let _ = u.set_username(MASK);
        }
        if let Some(query) = u.query().map(mask_query) {
            u.set_query(Some(&query));
        }
        u.set_fragment(None);
        return u.to_string();
    }
    by_shape(s)
}

/// Masks `key=value` pairs of a query string, keeping the keys.
fn mask_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) => format!("{key}={MASK}"),
            None if pair.is_empty() => String::new(),
            None => MASK.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Masks a URL-like text that does not parse as a URL (`user:pw@host:2775`).
fn by_shape(s: &str) -> String {
    let s = s.split('#').next().unwrap_or_default();
    let (head, query) = match s.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (s, None),
    };
    let (scheme, rest) = match head.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, head),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("{MASK}@{host}"),
        None => authority.to_owned(),
    };
    let mut out = String::with_capacity(s.len());
    if let Some(scheme) = scheme {
        out.push_str(scheme);
        out.push_str("://");
    }
    out.push_str(&authority);
    out.push_str(path);
    if let Some(query) = query {
        out.push('?');
        out.push_str(&mask_query(query));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::url;

    #[test]
    fn userinfo_and_query_values_are_masked() {
        let masked = url("https://user:pw@hooks.example.com:8443/sms?token=SECRET&x=1#frag");
        assert_eq!(masked, "https://****@hooks.example.com:8443/sms?token=****&x=****");
        assert_eq!(url("https://TOKEN@example.com/"), "https://****@example.com/");
        assert_eq!(url("smpp://sys:pw@smsc:2775"), "smpp://****@smsc:2775");
    }

    #[test]
    fn urls_without_secrets_and_plain_addresses_stay_readable() {
        assert_eq!(url("http://127.0.0.1:9/hook"), "http://127.0.0.1:9/hook");
        assert_eq!(url("smsc.example.com:2775"), "smsc.example.com:2775");
        assert_eq!(url("user:pw@smsc:2775"), "****@smsc:2775");
        assert_eq!(url("not a url ?token=abc"), "not a url ?token=****");
        assert_eq!(url(""), "");
    }
}
