//! `thingstead admin ...`: every command, its output shape, its error cases,
//! secrets never listed, and use against a running server.

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;

use serde_json::Value;
use tokio::io::AsyncReadExt;

use crate::support::{Env, all_messages, http_client, send_frame};

fn arr(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("expected a JSON array, got {v}"))
}

fn field<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("{v} lacks string field {k:?}"))
}

/// The values of `key` in a list.
fn column(list: &Value, key: &str) -> Vec<String> {
    arr(list).iter().map(|x| field(x, key).to_string()).collect()
}

#[test]
fn org_create_list_delete_and_errors() {
    let env = Env::new();
    assert_eq!(
        env.admin(&["org", "create", "acme"]),
        serde_json::json!({ "name": "acme" })
    );
    env.admin(&["org", "create", "b0-x"]);
    let list = env.admin(&["org", "list"]);
    let mut names = column(&list, "name");
    names.sort();
    assert_eq!(names, ["acme", "b0-x"]);

    let e = env.admin_err(&["org", "create", "acme"]);
    assert!(e.contains("acme") && e.contains("exists"), "duplicate org: {e}");
    for bad in ["Bad Name", "-leading", "UPPER", "a_b", "", &"x".repeat(64)] {
        let e = env.admin_err(&["org", "create", "--", bad]);
        assert!(e.contains("invalid"), "org name {bad:?}: {e}");
    }
    // 63 characters is the longest valid name.
    env.admin(&["org", "create", &"x".repeat(63)]);

    env.admin(&["org", "delete", "acme"]);
    assert!(!column(&env.admin(&["org", "list"]), "name").contains(&"acme".to_string()));
    let e = env.admin_err(&["org", "delete", "acme"]);
    assert!(e.contains("not found"), "delete unknown org: {e}");
    // The name is free again.
    env.admin(&["org", "create", "acme"]);
}

#[test]
fn org_retention() {
    let env = Env::new();
    env.admin(&["org", "create", "acme"]);
    let v = env.admin(&["org", "retention", "acme", "--secs", "3600"]);
    assert_eq!(v["name"], "acme");
    assert_eq!(v["message_retention_secs"], 3600);
    let listed = env.admin(&["org", "list"]);
    assert_eq!(arr(&listed)[0]["message_retention_secs"], 3600, "{listed}");

    let v = env.admin(&["org", "retention", "acme", "--unlimited"]);
    assert_eq!(v["message_retention_secs"], Value::Null);
    let listed = env.admin(&["org", "list"]);
    assert_eq!(arr(&listed)[0]["message_retention_secs"], Value::Null, "{listed}");

    let e = env.admin_err(&["org", "retention", "nope", "--secs", "10"]);
    assert!(e.contains("not found"), "{e}");
    // Neither or both of --secs/--unlimited is a usage error.
    assert!(!env.admin_out(&["org", "retention", "acme"]).status.success());
    assert!(
        !env.admin_out(&["org", "retention", "acme", "--secs", "5", "--unlimited"])
            .status
            .success()
    );
}

#[test]
fn user_create_list_delete_and_errors() {
    let env = Env::new();
    env.admin(&["org", "create", "acme"]);
    env.admin(&["org", "create", "other"]);
    let password = "correct-horse-battery";
    let v = env.admin(&[
        "user",
        "create",
        "--org",
        "acme",
        "--username",
        "bob",
        "--password",
        password,
    ]);
    assert_eq!(v, serde_json::json!({ "org": "acme", "username": "bob" }));
    // The same username in another organization is fine.
    env.admin(&[
        "user",
        "create",
        "--org",
        "other",
        "--username",
        "bob",
        "--password",
        password,
    ]);

    let out = env.admin_out(&["user", "list"]);
    let list = out.json();
    assert_eq!(arr(&list).len(), 2);
    assert!(!out.stdout.contains(password), "password in list: {}", out.stdout);
    assert!(!out.stdout.contains("argon2"), "password hash in list: {}", out.stdout);
    let only = env.admin(&["user", "list", "--org", "acme"]);
    assert_eq!(column(&only, "org"), ["acme"]);
    assert_eq!(column(&only, "username"), ["bob"]);

    let e = env.admin_err(&[
        "user",
        "create",
        "--org",
        "acme",
        "--username",
        "bob",
        "--password",
        password,
    ]);
    assert!(e.contains("exists"), "duplicate user: {e}");
    let e = env.admin_err(&[
        "user",
        "create",
        "--org",
        "acme",
        "--username",
        "al",
        "--password",
        "short",
    ]);
    assert!(e.contains("password"), "short password: {e}");
    let e = env.admin_err(&[
        "user",
        "create",
        "--org",
        "nope",
        "--username",
        "al",
        "--password",
        password,
    ]);
    assert!(e.contains("nope") && e.contains("not found"), "unknown org: {e}");
    let e = env.admin_err(&["user", "list", "--org", "nope"]);
    assert!(e.contains("not found"), "list unknown org: {e}");

    env.admin(&["user", "delete", "--org", "acme", "--username", "bob"]);
    let e = env.admin_err(&["user", "delete", "--org", "acme", "--username", "bob"]);
    assert!(e.contains("not found"), "{e}");
    assert_eq!(column(&env.admin(&["user", "list"]), "org"), ["other"]);
}

#[test]
fn device_create_list_totp_delete_and_errors() {
    let env = Env::new();
    env.admin(&["org", "create", "acme"]);
    env.admin(&["org", "create", "other"]);
    let named = env.admin(&["device", "create", "--org", "acme", "--name", "pump-1"]);
    assert_eq!(field(&named, "name"), "pump-1");
    let mut created = vec![named];
    for _ in 0..5 {
        created.push(env.admin(&["device", "create", "--org", "acme"]));
    }
    created.push(env.admin(&["device", "create", "--org", "other", "--name", "elsewhere"]));
    let mut keys = HashSet::new();
    for d in &created {
        let key = field(d, "devicekey");
        assert_eq!(key.len(), 8, "devicekey {key:?}");
        assert!(
            key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
            "devicekey {key:?}"
        );
        assert!(keys.insert(key.to_string()), "devicekey {key} issued twice");
        assert!(field(d, "secret").len() >= 32, "secret too short: {d}");
        assert!(!field(d, "uuid").is_empty() && !field(d, "name").is_empty());
    }

    let out = env.admin_out(&["device", "list"]);
    let list = out.json();
    assert_eq!(arr(&list).len(), created.len());
    for d in &created {
        assert!(
            !out.stdout.contains(field(d, "secret")),
            "device secret in list: {}",
            out.stdout
        );
        assert!(
            !out.stdout.contains(field(d, "devicekey")),
            "devicekey in list: {}",
            out.stdout
        );
    }
    for x in arr(&list) {
        assert!(x.get("secret").is_none() && x.get("devicekey").is_none(), "{x}");
    }

    // --org scopes the list.
    let acme = env.admin(&["device", "list", "--org", "acme"]);
    assert_eq!(arr(&acme).len(), 6);
    assert!(column(&acme, "org").iter().all(|o| o == "acme"));
    let other = env.admin(&["device", "list", "--org", "other"]);
    assert_eq!(column(&other, "uuid"), [field(&created[6], "uuid")]);

    // TOTP: nothing to show before a seed is provisioned.
    let uuid = field(&created[0], "uuid").to_string();
    let e = env.admin_err(&["device", "totp", "show", "--uuid", &uuid]);
    assert!(e.contains("no TOTP seed") && e.contains("rotate"), "{e}");
    // The old form, which silently replaced the seed, is gone.
    assert!(!env.admin_out(&["device", "totp", "--uuid", &uuid]).status.success());
    let t = env.admin(&["device", "totp", "rotate", "--uuid", &uuid]);
    assert_eq!(field(&t, "uuid"), uuid);
    assert_eq!(field(&t, "previous_seed"), "none", "{t}");
    let seed = field(&t, "secret");
    let uri = field(&t, "otpauth_uri");
    assert!(
        uri.starts_with("otpauth://totp/") && uri.contains(&format!("secret={seed}")),
        "{uri}"
    );
    // show reads the current seed without changing it.
    for _ in 0..2 {
        let shown = env.admin(&["device", "totp", "show", "--uuid", &uuid]);
        assert_eq!((field(&shown, "secret"), field(&shown, "otpauth_uri")), (seed, uri));
    }
    let out = env.admin_out(&["device", "list", "--org", "acme"]);
    assert!(!out.stdout.contains(seed), "TOTP seed in list: {}", out.stdout);
    let shown = arr(&out.json())
        .iter()
        .find(|x| x["uuid"] == uuid.as_str())
        .cloned()
        .unwrap();
    assert_eq!(shown["totp"], true, "{shown}");
    // rotate replaces it, and says the old one stops working.
    let t2 = env.admin(&["device", "totp", "rotate", "--uuid", &uuid]);
    assert_ne!(field(&t2, "secret"), seed, "rotate must replace the seed");
    assert!(field(&t2, "previous_seed").contains("no longer works"), "{t2}");
    let shown = env.admin(&["device", "totp", "show", "--uuid", &uuid]);
    assert_eq!(field(&shown, "secret"), field(&t2, "secret"));
    for sub in ["show", "rotate"] {
        let e = env.admin_err(&["device", "totp", sub, "--uuid", "00000000-0000-0000-0000-000000000000"]);
        assert!(e.contains("not found"), "{sub}: {e}");
    }

    // Errors.
    let e = env.admin_err(&["device", "create", "--org", "nope"]);
    assert!(e.contains("not found"), "{e}");
    let e = env.admin_err(&["device", "delete", "--org", "other", "--uuid", &uuid]);
    assert!(e.contains("not found"), "deleting another org's device: {e}");

    env.admin(&["device", "delete", "--org", "acme", "--uuid", &uuid]);
    let e = env.admin_err(&["device", "delete", "--org", "acme", "--uuid", &uuid]);
    assert!(e.contains("not found"), "{e}");
    assert!(!column(&env.admin(&["device", "list"]), "uuid").contains(&uuid));
}

#[test]
fn device_push_delivers_the_message_to_the_device_listener() {
    let env = Env::new();
    env.admin(&["org", "create", "acme"]);
    let d = env.admin(&["device", "create", "--org", "acme"]);
    let uuid = field(&d, "uuid");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let accept = rt.spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.unwrap();
        got
    });
    // A host that is neither the device's address nor in push.allowed_networks: refused.
    let push_to_localhost = [
        "device",
        "push",
        "--uuid",
        uuid,
        "--port",
        &port,
        "--host",
        "127.0.0.1",
        "hello device",
    ];
    let e = env.admin_err(&push_to_localhost);
    assert!(e.contains("allowed_networks"), "{e}");
    env.write("thingstead.toml", "[push]\nallowed_networks = [\"127.0.0.1/32\"]\n");
    let v = env.admin(&push_to_localhost);
    assert_eq!(v["result"], "delivered", "{v}");
    let got = rt
        .block_on(async { tokio::time::timeout(std::time::Duration::from_secs(5), accept).await })
        .expect("push arrived")
        .unwrap();
    assert_eq!(got, b"hello device");

    // Nothing listening there any more: a clear error, not success.
    let e = env.admin_err(&[
        "device",
        "push",
        "--uuid",
        uuid,
        "--port",
        &port,
        "--host",
        "127.0.0.1",
        "again",
    ]);
    assert!(e.contains("refused"), "{e}");
    // No --host and the device was never seen: nowhere to push.
    let e = env.admin_err(&["device", "push", "--uuid", uuid, "--port", &port, "x"]);
    assert!(e.contains("address"), "{e}");
    let e = env.admin_err(&[
        "device",
        "push",
        "--uuid",
        "00000000-0000-0000-0000-000000000000",
        "--port",
        &port,
        "x",
    ]);
    assert!(e.contains("not found"), "{e}");
}

#[test]
fn app_create_list_delete_and_errors() {
    let env = Env::new();
    env.admin(&["org", "create", "acme"]);
    env.admin(&["org", "create", "other"]);
    let a = env.admin(&["app", "create", "--org", "acme", "--name", "dashboard"]);
    assert_eq!(field(&a, "name"), "dashboard");
    let b = env.admin(&["app", "create", "--org", "acme"]);
    assert!(!field(&b, "name").is_empty());
    for x in [&a, &b] {
        assert!(field(x, "api_key").len() >= 32, "{x}");
        assert!(!field(x, "uuid").is_empty());
    }
    assert_ne!(field(&a, "api_key"), field(&b, "api_key"));

    let out = env.admin_out(&["app", "list"]);
    assert_eq!(arr(&out.json()).len(), 2);
    for x in [&a, &b] {
        assert!(
            !out.stdout.contains(field(x, "api_key")),
            "api_key in list: {}",
            out.stdout
        );
    }
    assert_eq!(arr(&env.admin(&["app", "list", "--org", "other"])).len(), 0);

    let e = env.admin_err(&["app", "create", "--org", "nope"]);
    assert!(e.contains("not found"), "{e}");
    let ua = field(&a, "uuid");
    let e = env.admin_err(&["app", "delete", "--org", "other", "--uuid", ua]);
    assert!(e.contains("not found"), "deleting another org's app: {e}");
    env.admin(&["app", "delete", "--org", "acme", "--uuid", ua]);
    let e = env.admin_err(&["app", "delete", "--org", "acme", "--uuid", ua]);
    assert!(e.contains("not found"), "{e}");
    assert_eq!(column(&env.admin(&["app", "list"]), "uuid"), [field(&b, "uuid")]);
}

#[test]
fn client_create_list_delete_and_errors() {
    let env = Env::new();
    env.admin(&["org", "create", "acme"]);
    env.admin(&["org", "create", "other"]);
    let c = env.admin(&["client", "create", "--org", "acme", "--scopes", "thing,category.read"]);
    assert_eq!(c["scopes"], serde_json::json!(["thing", "category.read"]));
    let id = field(&c, "client_id");
    let secret = field(&c, "client_secret");
    assert!(secret.len() >= 32, "{c}");

    let out = env.admin_out(&["client", "list"]);
    let list = out.json();
    assert!(!out.stdout.contains(secret), "client secret in list: {}", out.stdout);
    assert_eq!(column(&list, "client_id"), [id]);
    assert_eq!(arr(&list)[0]["scopes"], c["scopes"]);
    assert_eq!(arr(&env.admin(&["client", "list", "--org", "other"])).len(), 0);

    let e = env.admin_err(&["client", "create", "--org", "nope", "--scopes", "a"]);
    assert!(e.contains("not found"), "{e}");
    let e = env.admin_err(&["client", "create", "--org", "acme", "--scopes", ""]);
    assert!(e.contains("scope"), "{e}");
    // A scope the things API does not know is refused, naming the known ones.
    let e = env.admin_err(&["client", "create", "--org", "acme", "--scopes", "thing,things:write"]);
    assert!(e.contains("things:write") && e.contains("thing.read"), "{e}");
    let e = env.admin_err(&["client", "create", "--org", "acme"]);
    assert!(e.contains("at least one scope"), "{e}");
    let e = env.admin_err(&["client", "delete", "--org", "other", "--client-id", id]);
    assert!(e.contains("not found"), "deleting another org's client: {e}");
    env.admin(&["client", "delete", "--org", "acme", "--client-id", id]);
    let e = env.admin_err(&["client", "delete", "--org", "acme", "--client-id", id]);
    assert!(e.contains("not found"), "{e}");
    assert_eq!(arr(&env.admin(&["client", "list"])).len(), 0);
}

#[test]
fn apikey_create_list_delete_and_errors() {
    let env = Env::new();
    env.admin(&["org", "create", "acme"]);
    env.admin(&["org", "create", "other"]);
    let k = env.admin(&["apikey", "create", "--org", "acme"]);
    let key = field(&k, "apikey");
    let id = field(&k, "id");
    assert!(key.len() >= 32, "{k}");
    let k2 = env.admin(&["apikey", "create", "--org", "acme"]);
    assert_ne!(field(&k2, "apikey"), key);

    let out = env.admin_out(&["apikey", "list"]);
    let list = out.json();
    assert_eq!(arr(&list).len(), 2);
    for x in [key, field(&k2, "apikey")] {
        assert!(!out.stdout.contains(x), "API key in list: {}", out.stdout);
    }
    assert_eq!(arr(&env.admin(&["apikey", "list", "--org", "other"])).len(), 0);

    let e = env.admin_err(&["apikey", "create", "--org", "nope"]);
    assert!(e.contains("not found"), "{e}");
    let e = env.admin_err(&["apikey", "delete", "--org", "other", "--id", id]);
    assert!(e.contains("not found"), "deleting another org's key: {e}");
    env.admin(&["apikey", "delete", "--org", "acme", "--id", id]);
    let e = env.admin_err(&["apikey", "delete", "--org", "acme", "--id", id]);
    assert!(e.contains("not found"), "{e}");
    assert_eq!(column(&env.admin(&["apikey", "list"]), "id"), [field(&k2, "id")]);
}

#[test]
fn admin_creates_the_data_dir_with_mode_0700() {
    let env = Env::new();
    assert!(!env.data_dir().exists());
    env.admin(&["org", "create", "acme"]);
    let mode = std::fs::metadata(env.data_dir()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "data dir mode {mode:o}");
}

/// The admin CLI works on the store of a running server, and what it
/// creates or deletes takes effect in that server at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_against_a_running_server_takes_effect_at_once() {
    let env = Env::new();
    let server = env.start();
    env.admin(&["org", "create", "live"]);
    let d = env.admin(&["device", "create", "--org", "live"]);
    let key = field(&d, "devicekey");
    let uuid = field(&d, "uuid");
    let apikey = env.admin(&["apikey", "create", "--org", "live"]);
    let apikey_str = field(&apikey, "apikey");

    assert_eq!(
        send_frame(server.device_tcp, key, "made-while-running", &["t"])
            .await
            .unwrap(),
        "[0,0]"
    );
    let stored = all_messages(server.http, apikey_str).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].payload, "made-while-running");
    assert_eq!(stored[0].deviceid, uuid);
    assert_eq!(stored[0].record["tags"], serde_json::json!(["t"]));

    // The server recorded where the device sent from: a push without --host goes there.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let accept = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.unwrap();
        got
    });
    let v = env.admin(&["device", "push", "--uuid", uuid, "--port", &port, "to-last-seen"]);
    assert_eq!(v["result"], "delivered", "{v}");
    let got = tokio::time::timeout(std::time::Duration::from_secs(5), accept)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, b"to-last-seen");

    // Deletions take effect at once as well.
    env.admin(&["device", "delete", "--org", "live", "--uuid", uuid]);
    assert_eq!(
        send_frame(server.device_tcp, key, "after-delete", &["t"])
            .await
            .unwrap(),
        "[3,0]"
    );
    env.admin(&["apikey", "delete", "--org", "live", "--id", field(&apikey, "id")]);
    let resp = http_client()
        .get(server.url(&format!("/api/1/csr/rdm?apikey={apikey_str}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "a deleted API key still works");
    server.stop().await;
}

/// Whether `username` of `org` has `password`, read from the store itself.
fn password_is(env: &Env, org: &str, username: &str, password: &str) -> bool {
    let settings = thingstead_server::Settings {
        data_dir: env.data_dir(),
        ..Default::default()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let p = thingstead_server::open_platform(&settings, thingstead_server::OpenMode::Existing)
            .await
            .expect("open the store");
        let t = p.tenant(org).await.expect("org");
        let ok = p.verify_user(&t, username, password).await.expect("verify");
        p.close().await;
        ok
    })
}

#[test]
fn user_password_from_stdin_or_a_clear_error() {
    let env = Env::new();
    env.admin(&["org", "create", "acme"]);
    let create = |username: &str, extra: &[&str], stdin: Option<&str>| {
        let mut c = env.cmd(&["admin", "user", "create", "--org", "acme", "--username", username]);
        c.args(extra);
        let Some(input) = stdin else { return env.run(c) };
        let path = env.write(&format!("{username}.stdin"), input);
        c.stdin(std::fs::File::open(path).unwrap());
        env.run(c)
    };

    // One line from stdin, its line ending not part of the password.
    create(
        "ann",
        &["--password-stdin"],
        Some("correct horse battery\r\nignored second line\n"),
    )
    .json();
    assert!(password_is(&env, "acme", "ann", "correct horse battery"));
    assert!(!password_is(&env, "acme", "ann", "correct horse battery\r"));
    create("bob", &["--password-stdin"], Some("no-newline-at-all")).json();
    assert!(password_is(&env, "acme", "bob", "no-newline-at-all"));

    // Neither flag, stdin not a terminal: a clear error, not a prompt that hangs.
    let e = create("cy", &[], None).error_line();
    assert!(e.contains("--password-stdin"), "{e}");
    let e = create("cy", &["--password-stdin"], Some("")).error_line();
    assert!(e.contains("empty"), "{e}");
    // Both at once is a usage error.
    let out = create("cy", &["--password", "pw-on-the-line", "--password-stdin"], Some("x\n"));
    assert!(!out.status.success());
    // --password still works.
    create("dee", &["--password", "visible-but-works"], None).json();
    assert!(password_is(&env, "acme", "dee", "visible-but-works"));
    assert_eq!(env.admin(&["user", "list"]).as_array().unwrap().len(), 3);
}

#[test]
fn admin_times_are_rfc3339_utc() {
    let env = Env::new();
    env.admin(&["org", "create", "acme"]);
    env.admin(&["device", "create", "--org", "acme"]);
    env.admin(&["apikey", "create", "--org", "acme"]);
    for what in ["org", "device", "apikey"] {
        let list = env.admin(&[what, "list"]);
        for x in arr(&list) {
            let t = field(x, "created_at");
            // e.g. 2026-11-28T10:00:00.123Z
            assert!(
                t.len() == 24 && t.as_bytes()[10] == b'T' && t.ends_with('Z') && t.starts_with("20"),
                "{what} created_at {t:?}"
            );
        }
    }
    let d = &env.admin(&["device", "list"])[0];
    assert_eq!(d["last_seen_at"], Value::Null, "{d}");
}

#[tokio::test]
async fn the_first_serve_makes_the_token_key_and_rotation_adds_generations() {
    let env = Env::new();
    env.admin(&["org", "create", "acme"]);
    // A server's first start makes generation 1.
    let server = env.start();
    server.stop().await;
    assert_eq!(
        env.admin(&["token-key", "rotate"]),
        serde_json::json!({ "token_key_generation": 2 })
    );
    assert_eq!(
        env.admin(&["token-key", "rotate"]),
        serde_json::json!({ "token_key_generation": 3 })
    );
    // Restarting keeps the keys it finds.
    let server = env.start();
    server.stop().await;
    assert_eq!(env.admin(&["token-key", "rotate"])["token_key_generation"], 4);
}
