//! Listen addresses checked when settings load: `host:port` with a port
//! 0–65535 and an IP address or a well-formed host name.

use std::net::{Ipv6Addr, SocketAddr};

/// Checks one listen address; the error names the setting.
pub(super) fn check(name: &str, value: &str) -> Result<(), String> {
    if value.parse::<SocketAddr>().is_ok() {
        return Ok(());
    }
    let bad = |why: &str| Err(format!("{name} = {value:?}: {why}"));
    let Some((host, port)) = value.rsplit_once(':') else {
        return bad("must be host:port, e.g. 127.0.0.1:8080 (port 0: ephemeral)");
    };
    if port.parse::<u16>().is_err() {
        return bad("the port must be a number from 0 to 65535");
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return match inner.parse::<Ipv6Addr>() {
            Ok(_) => Ok(()),
            Err(_) => bad("not an IPv6 address between the brackets"),
        };
    }
    if host.contains(':') {
        return bad("an IPv6 address must be in brackets, e.g. [::1]:8080");
    }
    if !is_host_name(host) {
        return bad("the host must be an IP address or a host name (letters, digits, '-' and '.')");
    }
    Ok(())
}

/// A DNS host name: dot-separated labels of 1–63 letters, digits and
/// hyphens (not at either end), at most 253 characters, not all numeric
/// (that would be a malformed IPv4 address).
fn is_host_name(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() || host.len() > 253 {
        return false;
    }
    let labels_ok = host.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    let all_numeric = host.split('.').all(|l| l.bytes().all(|b| b.is_ascii_digit()));
    labels_ok && !all_numeric
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_host_and_port() {
        for ok in [
            "127.0.0.1:8080",
            "0.0.0.0:0",
            "[::1]:9999",
            "localhost:65535",
            "iot.example.com:80",
        ] {
            assert_eq!(check("http", ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("127.0.0.1", "host:port"),
            ("127.0.0.1:65536", "0 to 65535"),
            ("127.0.0.1:http", "0 to 65535"),
            ("::1:80", "brackets"),
            ("[zz]:80", "IPv6"),
            ("999.1.1.1:80", "IP address or a host name"),
            ("bad_host:80", "IP address or a host name"),
            (":80", "IP address or a host name"),
        ] {
            let e = check("device_tcp", bad).unwrap_err();
            assert!(e.starts_with("device_tcp = ") && e.contains(why), "{bad}: {e}");
        }
    }
}
