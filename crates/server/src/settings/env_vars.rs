//! Which `THINGSTEAD_*` variables name a setting, and a warning naming the
//! nearest real setting for each that does not (a typo is otherwise silently
//! ignored).

use std::collections::BTreeSet;

use super::Settings;

/// The prefix of every settings variable.
pub(super) const PREFIX: &str = "THINGSTEAD_";

/// Variables (after `THINGSTEAD_`) that scripts and the CLI read themselves:
/// they are not settings and are not warned about. A new CLI flag with
/// `env = "THINGSTEAD_..."` belongs here.
pub const SCRIPT_VARIABLES: &[&str] = &[
    "CONFIG",
    "APIKEY",
    "SERVER",
    "BIN",
    "DEVICEKEY",
    "TOTP_SECRET",
    "USER_PASSWORD",
    // The app commands' client credentials (thingstead login, listen, devices...).
    "CLIENT_URL",
    "CLIENT_USER",
    "CLIENT_PASSWORD",
    "CLIENT_ORG",
    "CLIENT_UUID",
    "CLIENT_DEVICE_SECRET",
    "CLIENT_API_KEY",
    "CLIENT_PROFILE",
    // The things commands' space and credentials (thingstead things, categories).
    "SPACE",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "SCOPES",
    "TOKEN",
    // The test harness's engines (scripts/test-engines, crates/testkit).
    "NATS_SERVER",
    "PG_BIN",
    "SMTP_PYTHON",
];

/// Every key path of [`Settings`], tables and leaves: `sms`, `sms.provider`,
/// `sms.smpp.addr`... (from the defaults serialized as JSON, where unset
/// optional settings still appear as `null`).
pub(super) fn key_paths() -> BTreeSet<String> {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut BTreeSet<String>) {
        if let serde_json::Value::Object(map) = v {
            for (k, child) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                walk(&path, child, out);
                out.insert(path);
            }
        }
    }
    let mut out = BTreeSet::new();
    if let Ok(v) = serde_json::to_value(Settings::default()) {
        walk("", &v, &mut out);
    }
    out
}

/// The key path a variable name (without the prefix) stands for:
/// `SMS__PROVIDER` → `sms.provider`.
pub(super) fn key_path(unprefixed: &str) -> String {
    unprefixed
        .to_ascii_lowercase()
        .split("__")
        .collect::<Vec<_>>()
        .join(".")
}

/// Whether a variable (without the prefix) is one the CLI or scripts read.
fn is_script_variable(unprefixed: &str) -> bool {
    SCRIPT_VARIABLES.iter().any(|s| s.eq_ignore_ascii_case(unprefixed))
}

/// The variable that sets a key path: `sms.provider` → `THINGSTEAD_SMS__PROVIDER`.
fn variable_for(path: &str) -> String {
    format!("{PREFIX}{}", path.replace('.', "__").to_ascii_uppercase())
}

/// A warning for each `THINGSTEAD_*` name in `names` that is neither a
/// setting nor a script variable, naming its nearest real setting.
pub(super) fn warnings<'a>(names: impl IntoIterator<Item = &'a str>, known: &BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    for name in names {
        let Some(rest) = strip_prefix(name) else { continue };
        if is_script_variable(rest) || known.contains(&key_path(rest)) {
            continue;
        }
        let path = key_path(rest);
        let nearest = known
            .iter()
            .map(|k| (strsim::normalized_damerau_levenshtein(&path, k), k))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        out.push(match nearest {
            Some((_, k)) => format!(
                "{name} is not a setting and is ignored; nearest setting: {k} ({})",
                variable_for(k)
            ),
            None => format!("{name} is not a setting and is ignored"),
        });
    }
    out
}

/// The name without [`PREFIX`] (matched ignoring case, as figment does).
pub(super) fn strip_prefix(name: &str) -> Option<&str> {
    let head = name.get(..PREFIX.len())?;
    head.eq_ignore_ascii_case(PREFIX).then(|| &name[PREFIX.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_names_the_variable_and_its_nearest_setting() {
        let known = key_paths();
        assert!(known.contains("sms.provider") && known.contains("secrets.master_key_file"));
        let w = warnings(
            [
                "THINGSTEAD_SMS__PROVDER",
                "THINGSTEAD_HTPP",
                "THINGSTEAD_SMS_PROVIDER",
                "THINGSTEAD_SMS__PROVIDER",
                "THINGSTEAD_DEVICE__MAX_FRAME",
                "THINGSTEAD_CONFIG",
                "THINGSTEAD_APIKEY",
                "THINGSTEAD_BIN",
                "PATH",
            ],
            &known,
        );
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(
            w[0].starts_with("THINGSTEAD_SMS__PROVDER ") && w[0].contains("sms.provider (THINGSTEAD_SMS__PROVIDER)"),
            "{}",
            w[0]
        );
        assert!(
            w[1].starts_with("THINGSTEAD_HTPP ") && w[1].contains("nearest setting: http "),
            "{}",
            w[1]
        );
    }
}
