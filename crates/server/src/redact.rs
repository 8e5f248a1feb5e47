//! Secrets out of text that is logged or shown to tenants.
//!
//! URLs carry secrets in two places: the userinfo (`https://user:pw@host`)
//! and the query (`?token=...`). [`url`] masks both; use it for every URL
//! (webhook, SMSC address, `store.url`) that goes into a log line, an error
//! reason or the printed settings. A PostgreSQL `store.url` may also be a
//! libpq `key=value` connection string: its `password` is masked too.

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
    if !s.contains("://") && s.contains('=') && !s.contains('?') {
        return conninfo(s);
    }
    by_shape(s)
}

/// Query keys whose values are settings, never secrets, kept readable.
const PLAIN_KEYS: [&str; 2] = ["sslmode", "connect_timeout"];

/// Masks the values of the secret keys (`password`, `sslpassword`) of a
/// libpq connection string `host=h user=u password='p w' dbname=d`:
/// `key = value` pairs separated by spaces, a value quoted with `'` when it
/// holds spaces (`\'` and `\\` escaped inside).
fn conninfo(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    loop {
        let trimmed = rest.trim_start();
        out.push_str(&rest[..rest.len() - trimmed.len()]);
        rest = trimmed;
        if rest.is_empty() {
            return out;
        }
        let Some(eq) = rest.find('=') else {
            out.push_str(rest);
            return out;
        };
        let key = rest[..eq].trim();
        out.push_str(&rest[..=eq]);
        let after = &rest[eq + 1..];
        let value = after.trim_start();
        out.push_str(&after[..after.len() - value.len()]);
        let len = value_len(value);
        if matches!(key, "password" | "sslpassword") {
            out.push_str(MASK);
        } else {
            out.push_str(&value[..len]);
        }
        rest = &value[len..];
    }
}

/// The length of the conninfo value at the start of `s`: quoted up to its
/// closing quote, else up to the next space.
fn value_len(s: &str) -> usize {
    if !s.starts_with('\'') {
        return s.find(char::is_whitespace).unwrap_or(s.len());
    }
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '\'' => return i + 1,
            _ => {}
        }
    }
    s.len()
}

/// Masks `key=value` pairs of a query string, keeping the keys (and the
/// values of [`PLAIN_KEYS`]).
fn mask_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) if PLAIN_KEYS.contains(&key) => format!("{key}={value}"),
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
        // The TLS mode is a setting, not a secret.
        assert_eq!(
            url("postgres://u:pw@db:5432/t?sslmode=verify-full&password=x"),
            "postgres://****@db:5432/t?sslmode=verify-full&password=****"
        );
    }

    #[test]
    fn a_libpq_connection_string_has_its_password_masked() {
        assert_eq!(
            url("host=127.0.0.1 port=5432 user=ts password=pw-secret1 dbname=t"),
            "host=127.0.0.1 port=5432 user=ts password=**** dbname=t"
        );
        assert_eq!(
            url("host=db password = 'a b\\' c' sslmode=require sslpassword=k"),
            "host=db password = **** sslmode=require sslpassword=****"
        );
        assert_eq!(url("password="), "password=****");
    }
}
