//! HTTP pieces shared by the [`app`](crate::app) and
//! [`things`](crate::things) clients: one rustls configuration ([`tls`])
//! and readable reqwest errors ([`describe`]).

pub(crate) mod tls;

/// A reqwest error with its chain of causes (`connection refused` instead
/// of `error sending request`), or `timed out`.
pub(crate) fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
