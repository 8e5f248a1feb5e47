//! The app commands (`login`, `listen`, `broadcast`, resources) as a user
//! runs them: the real binary against a real `thingstead serve`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use super::support::{Env, Server};

const PASSWORD: &str = "correct-horse-battery";

/// An organization `acme` with user `alice`, then a running server.
fn server_with_alice(env: &Env) -> Server {
    env.admin(&["org", "create", "acme"]);
    env.admin(&[
        "user",
        "create",
        "--org",
        "acme",
        "--username",
        "alice",
        "--password",
        PASSWORD,
    ]);
    env.start()
}

/// `thingstead ARGS...` with the profile kept under the test's root.
fn client(env: &Env, args: &[&str]) -> Command {
    let mut c = env.bare();
    c.env("XDG_CONFIG_HOME", env.root().join("config")).args(args);
    c
}

/// The same, logged in as alice through flags.
fn alice(env: &Env, server: &Server, args: &[&str]) -> Command {
    let mut c = client(env, args);
    let url = format!("http://{}", server.http);
    c.args([
        "--url",
        &url,
        "--user",
        "alice",
        "--password",
        PASSWORD,
        "--org",
        "acme",
    ]);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_saves_a_private_profile_that_later_commands_use() {
    let env = Env::new();
    let server = server_with_alice(&env);

    let wrong = env.run({
        let mut c = client(
            &env,
            &["login", "--user", "alice", "--password", "nope", "--org", "acme"],
        );
        c.args(["--url", &format!("http://{}", server.http)]);
        c
    });
    let line = wrong.error_line();
    assert!(line.contains("authentication"), "{line}");
    let profile = env.root().join("config").join("thingstead").join("client.toml");
    assert!(!profile.exists(), "a refused login saves nothing");

    let out = env.run(alice(&env, &server, &["login"])).json();
    assert_eq!(out["identity"]["type"], "user", "{out}");
    assert_eq!(out["identity"]["organization"], "acme", "{out}");
    assert_eq!(out["profile"], profile.display().to_string());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&profile).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the profile holds a password");
    let text = std::fs::read_to_string(&profile).unwrap();
    assert!(
        text.contains("alice") && text.contains(&server.http.to_string()),
        "{text}"
    );

    // No flags, no variables: the saved profile logs in.
    let again = env.run(client(&env, &["login"])).json();
    assert_eq!(again["identity"]["uuid"], out["identity"]["uuid"]);
    // The things commands' OAuth2 client variables are not app credentials.
    let mut c = client(&env, &["login"]);
    c.env("THINGSTEAD_CLIENT_ID", "ts-abc")
        .env("THINGSTEAD_CLIENT_SECRET", "s3cret");
    assert_eq!(env.run(c).json()["identity"]["uuid"], out["identity"]["uuid"]);
    // A script pipes the password in.
    let piped = env.root().join("password.txt");
    std::fs::write(&piped, format!("{PASSWORD}\n")).unwrap();
    let mut c = client(&env, &["login", "--user", "alice", "--org", "acme", "--password-stdin"]);
    c.args(["--url", &format!("http://{}", server.http)])
        .stdin(std::fs::File::open(&piped).unwrap());
    assert_eq!(env.run(c).json()["identity"]["uuid"], out["identity"]["uuid"]);
    // Variables beat the profile: a wrong password there is refused.
    let mut c = client(&env, &["login"]);
    c.env("THINGSTEAD_CLIENT_USER", "alice")
        .env("THINGSTEAD_CLIENT_PASSWORD", "nope")
        .env("THINGSTEAD_CLIENT_ORG", "acme");
    assert!(env.run(c).error_line().contains("authentication"));
    // Without any credentials and no profile: a clear error.
    let mut c = env.bare();
    c.env("XDG_CONFIG_HOME", env.root().join("elsewhere"))
        .args(["devices", "list"]);
    assert!(env.run(c).error_line().contains("no credentials"));
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_starts_and_warns_about_nothing_with_every_client_variable_set() {
    let env = Env::new();
    let mut cmd = env.serve_cmd(&["--http", "127.0.0.1:0", "--device-tcp", "127.0.0.1:0"]);
    for (k, v) in [
        ("THINGSTEAD_CLIENT_URL", "http://127.0.0.1:1"),
        ("THINGSTEAD_CLIENT_USER", "alice"),
        ("THINGSTEAD_CLIENT_PASSWORD", "pw"),
        ("THINGSTEAD_CLIENT_ORG", "acme"),
        ("THINGSTEAD_CLIENT_UUID", "u"),
        ("THINGSTEAD_CLIENT_DEVICE_SECRET", "s"),
        ("THINGSTEAD_CLIENT_ID", "ts-abc"),
        ("THINGSTEAD_CLIENT_SECRET", "s"),
        ("THINGSTEAD_CLIENT_API_KEY", "k"),
        ("THINGSTEAD_CLIENT_PROFILE", "/nonexistent/client.toml"),
    ] {
        cmd.env(k, v);
    }
    let server = env.spawn_server(cmd);
    let r = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(r.status(), 200);
    let logs = server.logs();
    assert!(!logs.contains("THINGSTEAD_CLIENT"), "{logs}");
    server.kill();
}

/// A `listen` process whose stdout lines arrive on a channel.
struct Listening {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_listen(mut cmd: Command) -> Listening {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn listen");
    let (tx, lines) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let (ready_tx, ready_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = ready_tx.send(line);
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let line = ready_rx
        .recv_timeout(Duration::from_secs(20))
        .expect("listen says it listens");
    assert!(line.starts_with("listening on"), "{line}");
    Listening { child, lines }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_prints_broadcasts_as_json_lines_and_broadcast_prints_responses() {
    let env = Env::new();
    let server = server_with_alice(&env);
    let listening = spawn_listen(alice(&env, &server, &["listen", "lobby", "--event", "hello"]));

    let out = env.run(alice(
        &env,
        &server,
        &["broadcast", "lobby", "hello", r#"{"n":1}"#, "--timeout", "0.2"],
    ));
    assert_eq!(out.json(), serde_json::json!([]), "nobody responds");
    // Another event name is not printed by `--event hello`.
    env.run(alice(
        &env,
        &server,
        &["broadcast", "lobby", "other", "2", "--timeout", "0"],
    ))
    .json();
    env.run(alice(
        &env,
        &server,
        &["broadcast", "lobby", "hello", "plain text", "--timeout", "0"],
    ))
    .json();

    let first: Value = serde_json::from_str(&listening.lines.recv_timeout(Duration::from_secs(10)).unwrap()).unwrap();
    assert_eq!(first["name"], "hello");
    assert_eq!(first["channel"], "lobby");
    assert_eq!(first["payload"], serde_json::json!({"n": 1}));
    let second: Value = serde_json::from_str(&listening.lines.recv_timeout(Duration::from_secs(10)).unwrap()).unwrap();
    assert_eq!(second["payload"], "plain text");
    drop(listening);
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_commands_create_list_get_update_and_delete() {
    let env = Env::new();
    let server = server_with_alice(&env);
    let created = env
        .run(alice(&env, &server, &["experiences", "create", r#"{"name":"Lobby"}"#]))
        .json();
    let uuid = created["uuid"].as_str().expect("uuid").to_owned();
    assert_eq!(created["name"], "Lobby");

    let listed = env.run(alice(&env, &server, &["experiences", "list", "--filter", "name=Lobby"]));
    let lines: Vec<Value> = listed.ok().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["uuid"], uuid.as_str());

    let updated = env
        .run(alice(
            &env,
            &server,
            &["experiences", "update", &uuid, r#"{"name":"Hall"}"#],
        ))
        .json();
    assert_eq!(updated["name"], "Hall");
    let got = env.run(alice(&env, &server, &["experiences", "get", &uuid])).json();
    assert_eq!(got["name"], "Hall");

    env.run(alice(&env, &server, &["experiences", "delete", &uuid])).json();
    let line = env
        .run(alice(&env, &server, &["experiences", "get", &uuid]))
        .error_line();
    assert!(line.contains("no experience"), "{line}");

    // Content items are kept as uploaded: update says so, before any request.
    let folder = env
        .run(alice(&env, &server, &["content", "create", r#"{"name":"media"}"#]))
        .json();
    let folder = folder["uuid"].as_str().expect("uuid");
    let line = env
        .run(alice(
            &env,
            &server,
            &["content", "update", folder, r#"{"color":"blue"}"#],
        ))
        .error_line();
    assert!(line.contains("cannot be updated"), "{line}");

    let item = env
        .run(alice(
            &env,
            &server,
            &["data", "create", "settings", "a b", r#"{"v":1}"#],
        ))
        .json();
    assert_eq!(
        item,
        serde_json::json!({"group": "settings", "key": "a b", "value": {"v": 1}})
    );
    let got = env
        .run(alice(&env, &server, &["data", "get", "settings", "a b"]))
        .json();
    assert_eq!(got["value"]["v"], 1);
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_keeps_printing_across_two_server_restarts() {
    let env = Env::new();
    let mut server = server_with_alice(&env);
    // Restarts keep the HTTP port, as a server behind a stable address does
    // (the port was picked by the first start, not fixed by the test).
    let http = server.http.to_string();
    let listening = spawn_listen(alice(&env, &server, &["listen", "lobby"]));
    for round in 0..3 {
        if round > 0 {
            server.kill();
            server = env.spawn_server(env.serve_cmd(&["--http", &http, "--device-tcp", "127.0.0.1:0"]));
        }
        // Broadcast until the listener, reconnected and resubscribed, prints it.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut n = 0;
        'round: loop {
            let payload = format!("{round}-{n}");
            env.run(alice(
                &env,
                &server,
                &["broadcast", "lobby", "tick", &payload, "--timeout", "0"],
            ))
            .json();
            while let Ok(line) = listening.lines.recv_timeout(Duration::from_millis(300)) {
                let v: Value = serde_json::from_str(&line).unwrap();
                if v["payload"]
                    .as_str()
                    .is_some_and(|p| p.starts_with(&format!("{round}-")))
                {
                    break 'round;
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "round {round}: listen never printed again"
            );
            n += 1;
        }
    }
    drop(listening);
    server.kill();
}
