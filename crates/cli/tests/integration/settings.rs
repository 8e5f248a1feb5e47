//! Settings layering (defaults < TOML file < THINGSTEAD_* env < flags)
//! through the binary: `config print`, `config example`, and what `serve`
//! actually binds.

use std::net::IpAddr;
use std::process::Command;

use crate::support::Env;

/// `config print` of a command, parsed.
fn print(env: &Env, mut cmd: Command) -> toml::Table {
    cmd.args(["config", "print"]);
    let out = env.run(cmd);
    toml::from_str(out.ok()).unwrap_or_else(|e| panic!("config print is not TOML ({e}):\n{}", out.stdout))
}

fn get<'a>(t: &'a toml::Table, path: &str) -> &'a toml::Value {
    let mut parts = path.split('.');
    let mut v = t
        .get(parts.next().unwrap())
        .unwrap_or_else(|| panic!("no {path} in {t}"));
    for p in parts {
        v = v.get(p).unwrap_or_else(|| panic!("no {path} in {t}"));
    }
    v
}

fn s<'a>(t: &'a toml::Table, path: &str) -> &'a str {
    get(t, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path} is not a string"))
}

fn i(t: &toml::Table, path: &str) -> i64 {
    get(t, path)
        .as_integer()
        .unwrap_or_else(|| panic!("{path} is not an integer"))
}

const FILE: &str = r#"
data_dir = "from-file"
http = "127.0.0.2:0"
device_tcp = "127.0.0.2:0"

[device]
max_frame = 1000
idle_timeout_ms = 1234

[sms.smpp]
password = "file-smpp-password"
"#;

#[test]
fn config_print_layers_defaults_file_env_flags() {
    let env = Env::new();
    let file = env.write("layers.toml", FILE);

    // Defaults only (empty working directory, clean environment).
    let t = print(&env, env.bare());
    assert_eq!(s(&t, "data_dir"), "./thingstead-data");
    assert_eq!(s(&t, "http"), "127.0.0.1:8080");
    assert_eq!(s(&t, "device_tcp"), "127.0.0.1:9999");
    assert_eq!(i(&t, "device.max_frame"), 65536);
    assert_eq!(i(&t, "http_limits.max_body_bytes"), 1024 * 1024);

    // File over defaults; untouched keys of a touched section keep their defaults.
    let mut c = env.bare();
    c.arg("--config").arg(&file);
    let t = print(&env, c);
    assert_eq!(s(&t, "data_dir"), "from-file");
    assert_eq!(s(&t, "http"), "127.0.0.2:0");
    assert_eq!(i(&t, "device.max_frame"), 1000);
    assert_eq!(i(&t, "device.idle_timeout_ms"), 1234);
    assert_eq!(i(&t, "device.max_connections"), 4096);

    // Env over file, including nested keys with __; the rest of the file stays.
    let mut c = env.bare();
    c.arg("--config").arg(&file);
    c.env("THINGSTEAD_HTTP", "127.0.0.3:0")
        .env("THINGSTEAD_DATA_DIR", "from-env")
        .env("THINGSTEAD_DEVICE__MAX_FRAME", "2000");
    let t = print(&env, c);
    assert_eq!(s(&t, "data_dir"), "from-env");
    assert_eq!(s(&t, "http"), "127.0.0.3:0");
    assert_eq!(s(&t, "device_tcp"), "127.0.0.2:0");
    assert_eq!(i(&t, "device.max_frame"), 2000);
    assert_eq!(i(&t, "device.idle_timeout_ms"), 1234);

    // Flag over env, before or after the subcommand.
    for flag_after in [false, true] {
        let mut c = env.bare();
        c.env("THINGSTEAD_DATA_DIR", "from-env")
            .env("THINGSTEAD_DEVICE__MAX_FRAME", "2000");
        if flag_after {
            c.args(["config", "print", "--data-dir", "from-flag", "--config"])
                .arg(&file);
            let out = env.run(c);
            let t: toml::Table = toml::from_str(out.ok()).unwrap();
            assert_eq!(s(&t, "data_dir"), "from-flag");
            assert_eq!(i(&t, "device.max_frame"), 2000);
            assert_eq!(i(&t, "device.idle_timeout_ms"), 1234);
        } else {
            c.args(["--data-dir", "from-flag", "--config"]).arg(&file);
            let t = print(&env, c);
            assert_eq!(s(&t, "data_dir"), "from-flag");
            assert_eq!(i(&t, "device.max_frame"), 2000);
        }
    }
}

#[test]
fn config_file_in_the_working_directory_and_from_env() {
    let env = Env::new();
    env.write("thingstead.toml", "http = \"127.0.0.5:0\"\n");
    let t = print(&env, env.bare());
    assert_eq!(s(&t, "http"), "127.0.0.5:0", "./thingstead.toml not read");

    // --config wins over ./thingstead.toml.
    let other = env.write("other.toml", "http = \"127.0.0.6:0\"\n");
    let mut c = env.bare();
    c.arg("--config").arg(&other);
    assert_eq!(s(&print(&env, c), "http"), "127.0.0.6:0");

    // THINGSTEAD_CONFIG names the file too.
    let mut c = env.bare();
    c.env("THINGSTEAD_CONFIG", &other);
    assert_eq!(s(&print(&env, c), "http"), "127.0.0.6:0");
}

#[test]
fn config_print_masks_secrets() {
    let env = Env::new();
    let file = env.write(
        "secrets.toml",
        "[sms.smpp]\npassword = \"file-smpp-password\"\n[sms.webhook]\nauthorization = \"Bearer file-webhook-token\"\n",
    );
    let mut c = env.bare();
    c.arg("--config").arg(&file).args(["config", "print"]);
    let out = env.run(c);
    let text = out.ok();
    assert!(!text.contains("file-smpp-password"), "SMPP password shown:\n{text}");
    assert!(
        !text.contains("file-webhook-token"),
        "webhook authorization shown:\n{text}"
    );
    let t: toml::Table = toml::from_str(text).unwrap();
    assert_eq!(s(&t, "sms.smpp.password"), "****");
    assert_eq!(s(&t, "sms.webhook.authorization"), "****");

    let mut c = env.bare();
    c.env("THINGSTEAD_SMS__SMPP__PASSWORD", "env-smpp-password")
        .args(["config", "print"]);
    let out = env.run(c);
    assert!(
        !out.ok().contains("env-smpp-password"),
        "SMPP password from env shown:\n{}",
        out.stdout
    );
    assert!(out.stdout.contains("****"));
}

#[test]
fn config_example_parses_and_equals_the_defaults() {
    let env = Env::new();
    let mut c = env.bare();
    c.args(["config", "example"]);
    let out = env.run(c);
    let example_text = out.ok().to_string();
    assert!(
        example_text.lines().any(|l| l.trim_start().starts_with('#')),
        "example has no comments"
    );
    let example: toml::Table =
        toml::from_str(&example_text).unwrap_or_else(|e| panic!("config example does not parse ({e})"));
    let defaults = print(&env, env.bare());
    assert_eq!(example, defaults, "config example differs from the defaults");

    // Used as the config file, it changes nothing.
    let file = env.write("example.toml", &example_text);
    let mut c = env.bare();
    c.arg("--config").arg(&file);
    assert_eq!(print(&env, c), defaults);
}

/// A failed command's stderr: `error: config file ...` with the TOML
/// error's line and column and its caret diagram, nothing on stdout.
#[track_caller]
fn toml_error(out: &crate::support::Output, line: usize, column: usize, source_line: &str) -> String {
    assert!(!out.status.success(), "{} succeeded", out.what);
    assert!(out.stdout.trim().is_empty(), "stdout on error: {:?}", out.stdout);
    let e = out.stderr.clone();
    assert!(e.starts_with("error: config file "), "{e}");
    assert!(e.contains(&format!("line {line}, column {column}")), "{e}");
    assert!(
        e.contains(&format!("{line} | {source_line}\n")),
        "no source line in {e}"
    );
    assert!(
        e.lines().any(|l| l.trim_start().starts_with('|') && l.ends_with('^')),
        "no caret in {e}"
    );
    e
}

#[test]
fn unknown_config_key_is_a_clear_error() {
    let env = Env::new();
    for (name, body, key, line) in [
        ("top.toml", "bogus_key = 1\n", "bogus_key", 1),
        ("nested.toml", "[device]\nmax_frme = 100\n", "max_frme", 2),
        (
            "deep.toml",
            "http = \"127.0.0.1:0\"\n\n[sms]\nprovdr = \"smpp\"\n",
            "provdr",
            4,
        ),
    ] {
        let file = env.write(name, body);
        let mut c = env.bare();
        c.arg("--config").arg(&file).args(["config", "print"]);
        let source_line = body.lines().nth(line - 1).unwrap();
        let e = toml_error(&env.run(c), line, 1, source_line);
        assert!(
            e.contains(&format!("unknown field `{key}`")),
            "error does not name {key}: {e}"
        );
        assert!(!e.contains("default."), "figment's profile in {e}");

        let mut c = env.serve_cmd(&["--http", "127.0.0.1:0", "--device-tcp", "127.0.0.1:0"]);
        c.arg("--config").arg(&file);
        let out = env.run(c);
        assert!(!out.status.success(), "serve started with unknown key {key}");
        toml_error(&out, line, 1, source_line);
        assert!(!env.ready_file().exists(), "ready file written although serve failed");
    }
    // Malformed TOML as well.
    let file = env.write("broken.toml", "http = \n");
    let mut c = env.bare();
    c.arg("--config").arg(&file).args(["config", "print"]);
    toml_error(&env.run(c), 1, 8, "http = ");
}

#[test]
fn a_mistyped_variable_is_warned_about_with_the_nearest_setting() {
    let env = Env::new();
    let mut c = env.bare();
    c.env("THINGSTEAD_SMS__PROVDER", "smpp")
        .env("THINGSTEAD_HTTP", "127.0.0.7:0")
        .env("THINGSTEAD_APIKEY", "read-by-the-cli")
        .env("THINGSTEAD_BIN", "/read/by/scripts")
        .args(["config", "print"]);
    let out = env.run(c);
    let t: toml::Table = toml::from_str(out.ok()).unwrap();
    assert_eq!(s(&t, "http"), "127.0.0.7:0");
    assert_eq!(s(&t, "sms.provider"), "none", "the typo was read");
    let warnings: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(warnings.len(), 1, "{:?}", out.stderr);
    assert!(
        warnings[0].starts_with("warning: THINGSTEAD_SMS__PROVDER")
            && warnings[0].contains("sms.provider (THINGSTEAD_SMS__PROVIDER)"),
        "{}",
        warnings[0]
    );

    // serve logs it at warn and starts.
    let mut c = env.serve_cmd(&["--http", "127.0.0.1:0", "--device-tcp", "127.0.0.1:0"]);
    c.env("THINGSTEAD_DEVICE__MAX_FRAMES", "1");
    let server = env.spawn_server(c);
    let logs = server.logs();
    assert!(
        logs.lines().any(|l| l.contains("WARN")
            && l.contains("THINGSTEAD_DEVICE__MAX_FRAMES")
            && l.contains("device.max_frame")),
        "{logs}"
    );
    server.kill();
}

#[test]
fn bad_listen_addresses_are_caught_by_config_print() {
    let env = Env::new();
    for (var, value, key, why) in [
        ("THINGSTEAD_HTTP", "127.0.0.1:99999", "http", "65535"),
        ("THINGSTEAD_DEVICE_TCP", "127.0.0.1", "device_tcp", "host:port"),
        ("THINGSTEAD_HTTP", "my_host:80", "http", "host name"),
    ] {
        let mut c = env.bare();
        c.env(var, value).args(["config", "print"]);
        let e = env.run(c).error_line();
        assert!(e.contains(&format!("{key} = \"{value}\"")) && e.contains(why), "{e}");
    }
    let file = env.write("addr.toml", "http = \"localhost:8080\"\ndevice_tcp = \"[::1]:0\"\n");
    let mut c = env.bare();
    c.arg("--config").arg(&file).args(["config", "print"]);
    env.run(c).ok();
}

/// `serve` binds what the layers say: flag over env over file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_binds_the_layered_addresses() {
    let env = Env::new();
    let file_data = env.root().join("file-data");
    let file = env.write(
        "serve.toml",
        &format!(
            "data_dir = {:?}\nhttp = \"127.0.0.2:0\"\ndevice_tcp = \"127.0.0.2:0\"\n",
            file_data.to_str().unwrap()
        ),
    );
    let ip = |s: &str| -> IpAddr { s.parse().unwrap() };

    // File + env + flag: http from the flag, device_tcp from the file.
    let mut c = env.serve_cmd(&["--http", "127.0.0.4:0"]);
    c.arg("--config").arg(&file).env("THINGSTEAD_HTTP", "127.0.0.3:0");
    let server = env.spawn_server(c);
    assert_eq!(server.http.ip(), ip("127.0.0.4"), "{}", server.ready);
    assert_ne!(server.http.port(), 0);
    assert_eq!(server.device_tcp.ip(), ip("127.0.0.2"), "{}", server.ready);
    assert!(env.data_dir().is_dir(), "--data-dir flag not used");
    assert!(!file_data.exists(), "the file's data_dir was used despite --data-dir");
    let body = crate::support::http_client()
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(body.status(), 200);
    server.stop().await;

    // File + env: http from env, device_tcp from env over file.
    let mut c = env.serve_cmd(&[]);
    c.arg("--config")
        .arg(&file)
        .env("THINGSTEAD_HTTP", "127.0.0.3:0")
        .env("THINGSTEAD_DEVICE_TCP", "127.0.0.5:0");
    let server = env.spawn_server(c);
    assert_eq!(server.http.ip(), ip("127.0.0.3"), "{}", server.ready);
    assert_eq!(server.device_tcp.ip(), ip("127.0.0.5"), "{}", server.ready);
    server.stop().await;
}
