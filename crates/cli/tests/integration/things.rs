//! `thingstead things ...` and `thingstead categories ...` as a user runs
//! them: the real binary against a real `thingstead serve`, through the
//! things API (`/spaces/...`) with an OAuth2 client or a bearer token.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use super::support::{Env, Output, Server, http_client};

/// An OAuth2 client of a space.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub secret: String,
}

/// Organizations `acme` and `other`, a client of each with every scope.
pub fn orgs_and_clients(env: &Env) -> (Client, Client) {
    env.admin(&["org", "create", "acme"]);
    env.admin(&["org", "create", "other"]);
    let client = |org: &str| {
        let c = env.admin(&[
            "client",
            "create",
            "--org",
            org,
            "--scopes",
            "thing,thing.read,category,category.read",
        ]);
        Client {
            id: c["client_id"].as_str().expect("client_id").to_owned(),
            secret: c["client_secret"].as_str().expect("client_secret").to_owned(),
        }
    };
    (client("acme"), client("other"))
}

/// `thingstead ARGS...` with no connection flags, the profile under the
/// test's root (`config/thingstead/client.toml`).
pub fn bare(env: &Env, args: &[&str]) -> Command {
    let mut c = env.bare();
    c.env("XDG_CONFIG_HOME", env.root().join("config")).args(args);
    c
}

/// `thingstead ARGS...` as `client` in space `acme` through flags.
pub fn as_client(env: &Env, server: &Server, client: &Client, args: &[&str]) -> Command {
    let mut c = bare(env, args);
    c.args(["--url", &server.url(""), "--space", "acme"]);
    c.args(["--client-id", &client.id, "--client-secret", &client.secret]);
    c
}

/// Runs a command that must succeed and print JSON lines; their values.
#[track_caller]
pub fn lines(out: &Output) -> Vec<Value> {
    out.ok()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: not a JSON line ({e}): {l:?}", out.what)))
        .collect()
}

fn sensor(title: &str) -> Value {
    json!({
        "title": title,
        "@type": ["Sensor"],
        "properties": {
            "temperature": {"type": "number", "minimum": -50, "maximum": 100},
            "label": {"type": "string"}
        }
    })
}

/// A token of `client` from the server's token endpoint.
async fn token(server: &Server, client: &Client) -> String {
    let v: Value = http_client()
        .post(server.url("/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &client.id),
            ("client_secret", &client.secret),
        ])
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("token JSON");
    v["access_token"].as_str().expect("access_token").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn categories_are_created_listed_read_updated_and_deleted() {
    let env = Env::new();
    let (acme, _) = orgs_and_clients(&env);
    let server = env.start();
    let run = |args: &[&str]| env.run(as_client(&env, &server, &acme, args));

    let c = run(&["categories", "create", "Sensors", "--description", "all sensors"]).json();
    assert_eq!(
        (c["name"].as_str(), c["description"].as_str()),
        (Some("Sensors"), Some("all sensors")),
        "{c}"
    );
    run(&["categories", "create", "Pumps", "--model", "pm", "--model-version", "2"]).json();
    let got = run(&["categories", "get", "Pumps"]).json();
    assert_eq!(got["model"], json!({"name": "pm", "version": "2"}), "{got}");

    let u = run(&["categories", "update", "Sensors", "--description", "every sensor"]).json();
    assert_eq!(u["description"], "every sensor", "{u}");
    let names = |out: &Output| -> Vec<String> {
        let mut v: Vec<String> = lines(out)
            .iter()
            .map(|c| c["name"].as_str().unwrap_or("").to_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        names(&run(&["categories", "list", "--page-size", "1"])),
        ["Pumps", "Sensors"]
    );
    assert_eq!(lines(&run(&["categories", "list", "--limit", "1"])).len(), 1);

    assert_eq!(
        run(&["categories", "delete", "Pumps"]).json(),
        json!({"deleted": "Pumps"})
    );
    let e = run(&["categories", "get", "Pumps"]).error_line();
    assert!(e.contains("404"), "{e}");
    let e = run(&["categories", "create", "Sensors"]).error_line();
    assert!(e.contains("409"), "a duplicate: {e}");
    let e = run(&["categories", "create", "no spaces!"]).error_line();
    assert!(e.contains("400"), "{e}");
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn things_are_created_read_replaced_patched_and_deleted_with_their_properties_and_history() {
    let env = Env::new();
    let (acme, _) = orgs_and_clients(&env);
    let server = env.start();
    let run = |args: &[&str]| env.run(as_client(&env, &server, &acme, args));

    let created = run(&["things", "create", &sensor("alpha").to_string()]).json();
    let uid = created["uid"].as_str().expect("uid").to_owned();
    assert_eq!(created["title"], "alpha", "{created}");
    let got = run(&["things", "get", &uid]).json();
    assert_eq!(got["uid"], uid.as_str());

    // Full replace, then a JSON Patch.
    let mut replaced = sensor("beta");
    replaced["description"] = json!("replaced");
    let r = run(&["things", "update", &uid, &replaced.to_string()]).json();
    assert_eq!(
        (r["title"].as_str(), r["description"].as_str()),
        (Some("beta"), Some("replaced")),
        "{r}"
    );
    let p = run(&[
        "things",
        "patch",
        &uid,
        r#"[{"op":"replace","path":"/title","value":"gamma"}]"#,
    ])
    .json();
    assert_eq!(p["title"], "gamma", "{p}");
    let e = run(&["things", "patch", &uid, r#"{"op":"replace"}"#]).error_line();
    assert!(e.contains("JSON array"), "{e}");

    // Properties: one, several, without history; then the history.
    assert_eq!(
        run(&["things", "props", "set", &uid, "temperature", "21.5"]).json(),
        json!({"temperature": 21.5})
    );
    assert_eq!(
        run(&["things", "props", "set", &uid, "temperature", "-5"]).json(),
        json!({"temperature": -5})
    );
    run(&["things", "props", "set", &uid, r#"{"temperature": 22, "label": "x"}"#]).json();
    run(&["things", "props", "set", &uid, "label", "quiet", "--no-history"]).json();
    assert_eq!(
        run(&["things", "props", "get", &uid]).json(),
        json!({"temperature": 22, "label": "quiet"})
    );
    assert_eq!(
        run(&["things", "props", "get", &uid, "label"]).json(),
        json!({"label": "quiet"})
    );
    let e = run(&["things", "props", "set", &uid, "temperature", "500"]).error_line();
    assert!(e.contains("400"), "outside the schema: {e}");
    assert_eq!(run(&["things", "get", &uid]).json()["status"]["temperature"], 22);

    let history = lines(&run(&["things", "history", "list", &uid, "--property", "temperature"]));
    assert_eq!(history.len(), 3, "{history:?}");
    assert!(
        history
            .iter()
            .all(|h| h["at"].is_string() && h["properties"]["temperature"].is_number())
    );
    let added = run(&[
        "things",
        "history",
        "add",
        &uid,
        r#"[{"at":"2024-01-01T00:00:00Z","properties":{"temperature":1}},{"at":"2024-01-02T00:00:00Z","properties":{"temperature":2}}]"#,
    ])
    .json();
    assert_eq!(added.as_array().map(Vec::len), Some(2), "{added}");
    let january = lines(&run(&["things", "history", "list", &uid, "--at", "2024-01|2024-02"]));
    assert_eq!(january.len(), 2, "{january:?}");
    assert_eq!(
        lines(&run(&["things", "history", "list", &uid, "--page-size", "1"])).len(),
        6
    );
    run(&["things", "history", "delete", &uid, "--at", "2024-01|2024-02"]).json();
    assert_eq!(lines(&run(&["things", "history", "list", &uid])).len(), 4);

    assert_eq!(run(&["things", "delete", &uid]).json(), json!({"deleted": uid}));
    let e = run(&["things", "get", &uid]).error_line();
    assert!(e.contains("404"), "{e}");
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_beat_variables_beat_the_profile() {
    let env = Env::new();
    let (acme, other) = orgs_and_clients(&env);
    env.admin(&[
        "user",
        "create",
        "--org",
        "acme",
        "--username",
        "alice",
        "--password",
        "pw-alice-12345",
    ]);
    let server = env.start();
    let mut c = bare(&env, &["things", "create", &sensor("mine").to_string()]);
    c.args(["--url", &server.url(""), "--space", "acme", "--client-id", &acme.id]);
    c.env("THINGSTEAD_CLIENT_SECRET", &acme.secret);
    let uid = env.run(c).json()["uid"].as_str().expect("uid").to_owned();

    // Nothing anywhere: a clear error.
    let e = env.run(bare(&env, &["things", "list"])).error_line();
    assert!(e.contains("no server URL"), "{e}");

    // The profile alone.
    let dir = env.root().join("config").join("thingstead");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("client.toml"),
        format!(
            "url = \"{}\"\n\n[things]\nspace = \"acme\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\nscopes = [\"thing.read\"]\n",
            server.url(""),
            acme.id,
            acme.secret
        ),
    )
    .unwrap();
    let listed = lines(&env.run(bare(&env, &["things", "list"])));
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["uid"], uid.as_str());
    // The profile's scopes are asked for: read only.
    let e = env.run(bare(&env, &["things", "delete", &uid])).error_line();
    assert!(e.contains("403"), "a thing.read token deletes nothing: {e}");
    // The app commands read the same profile, and `login` keeps the section.
    env.run(bare(
        &env,
        &[
            "login",
            "--user",
            "alice",
            "--password",
            "pw-alice-12345",
            "--org",
            "acme",
        ],
    ))
    .json();
    let text = std::fs::read_to_string(dir.join("client.toml")).unwrap();
    assert!(text.contains("[things]") && text.contains("alice"), "{text}");
    assert_eq!(lines(&env.run(bare(&env, &["things", "list"]))).len(), 1);

    // Variables beat the profile: another space, then another client's token.
    let mut c = bare(&env, &["things", "list"]);
    c.env("THINGSTEAD_SPACE", "other");
    let e = env.run(c).error_line();
    assert!(e.contains("403"), "acme's client in space other: {e}");
    let other_token = token(&server, &other).await;
    let mut c = bare(&env, &["things", "list"]);
    c.env("THINGSTEAD_SPACE", "other").env("THINGSTEAD_TOKEN", &other_token);
    assert_eq!(lines(&env.run(c)).len(), 0, "other's token lists other's (no) things");

    // Flags beat variables.
    let mut c = bare(
        &env,
        &[
            "things",
            "list",
            "--space",
            "acme",
            "--token",
            &token(&server, &acme).await,
        ],
    );
    c.env("THINGSTEAD_SPACE", "other").env("THINGSTEAD_TOKEN", &other_token);
    assert_eq!(lines(&env.run(c)).len(), 1, "the flags' space and token");
    let mut c = bare(
        &env,
        &[
            "things",
            "list",
            "--client-id",
            &acme.id,
            "--client-secret",
            &acme.secret,
        ],
    );
    c.env("THINGSTEAD_TOKEN", "not-a-token");
    assert_eq!(lines(&env.run(c)).len(), 1, "client flags over a token variable");
    let mut c = bare(&env, &["things", "list"]);
    c.env("THINGSTEAD_TOKEN", "t").env("THINGSTEAD_CLIENT_ID", &acme.id);
    let e = env.run(c).error_line();
    assert!(e.contains("both a token and a client id"), "{e}");
    let mut c = bare(&env, &["things", "list", "--client-secret", "wrong"]);
    c.env("THINGSTEAD_CLIENT_ID", &acme.id);
    let e = env.run(c).error_line();
    assert!(e.contains("invalid_client"), "{e}");
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_fails_with_the_servers_status_and_message() {
    let env = Env::new();
    let (acme, _) = orgs_and_clients(&env);
    // The things commands' variables are not settings: serve warns about none.
    let mut cmd = env.serve_cmd(&["--http", "127.0.0.1:0", "--device-tcp", "127.0.0.1:0"]);
    for var in ["SPACE", "CLIENT_ID", "CLIENT_SECRET", "SCOPES", "TOKEN", "CLIENT_URL"] {
        cmd.env(format!("THINGSTEAD_{var}"), "x");
    }
    let server = env.spawn_server(cmd);
    let t = token(&server, &acme).await;
    let logs = server.logs();
    assert!(!logs.contains("THINGSTEAD_"), "{logs}");
    let list = |t: &str| {
        let mut c = bare(&env, &["things", "list", "--url", &server.url(""), "--space", "acme"]);
        c.env("THINGSTEAD_TOKEN", t);
        env.run(c)
    };
    list(&t).ok();
    let r = http_client()
        .post(server.url("/oauth2/revoke"))
        .form(&[
            ("token", t.as_str()),
            ("client_id", &acme.id),
            ("client_secret", &acme.secret),
        ])
        .send()
        .await
        .expect("revoke");
    assert_eq!(r.status(), 200);
    let e = list(&t).error_line();
    assert!(e.contains("HTTP 401"), "{e}");
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_fails_with_the_servers_status_and_message() {
    let env = Env::new();
    let (acme, _) = orgs_and_clients(&env);
    let mut cmd = env.serve_cmd(&["--http", "127.0.0.1:0", "--device-tcp", "127.0.0.1:0"]);
    cmd.env("THINGSTEAD_THINGS__TOKEN_TTL_SECS", "1");
    let server = env.spawn_server(cmd);
    let t = token(&server, &acme).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let mut c = bare(
        &env,
        &["things", "get", "x", "--url", &server.url(""), "--space", "acme"],
    );
    c.env("THINGSTEAD_TOKEN", &t);
    let e = env.run(c).error_line();
    assert!(e.contains("HTTP 401"), "{e}");
    server.kill();
}
