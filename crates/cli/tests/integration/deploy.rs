//! The example deployment in `deploy/`, run as written: the systemd unit
//! passes `systemd-analyze verify`; two nodes started with the unit's own
//! command line and the example settings (addresses pointed at this test's
//! PostgreSQL, NATS and loopback ports) serve devices and REST through the
//! example HAProxy configuration, and keep serving when one node dies.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::cluster::{Cluster, eventually};
use crate::support::{BIN, Env, Server, http_client, send_frame};

fn deploy(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy").join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(deploy(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The value of the first `key=` line of a unit file.
fn unit_value(unit: &str, key: &str) -> String {
    unit.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("the unit has no {key}="))
        .to_owned()
}

#[test]
fn the_systemd_unit_verifies() {
    let tool = Command::new("systemd-analyze").arg("--version").output();
    assert!(
        tool.is_ok_and(|o| o.status.success()),
        "this test needs systemd-analyze (apt-get install systemd; scripts/test-engines installs it)"
    );
    let dir = tempfile::tempdir().unwrap();
    // verify checks that ExecStart's binary exists: point it at ours.
    let unit = read("systemd/thingstead@.service").replace("/usr/local/bin/thingstead", BIN);
    std::fs::write(dir.path().join("thingstead@.service"), unit).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(dir.path().join("thingstead@node1.service"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "systemd-analyze verify failed:\n{stderr}");
    assert!(
        !stderr.contains("thingstead@"),
        "systemd-analyze verify warns about the unit:\n{stderr}"
    );
}

/// A free loopback port (bound and released; HAProxy binds it next).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One node: the example settings with this test's addresses, started with
/// the unit's ExecStart (`%i` = the node name, `/etc/thingstead` = `etc`).
fn start_node(env: &Env, name: &str, etc: &Path, db: &str, nats: &str) -> Server {
    let settings = read("systemd/node1.toml")
        .replace("node1", name)
        .replace("/var/lib/thingstead", &env.root().join("lib").display().to_string())
        .replace("/etc/thingstead", &etc.display().to_string())
        .replace("10.0.0.11:8080", "127.0.0.1:0")
        .replace("10.0.0.11:9999", "127.0.0.1:0")
        .replace("postgres://thingstead@10.0.0.5:5432/thingstead", db)
        .replace("nats://10.0.0.6:4222", nats)
        // The balancer is on loopback here.
        .replace("10.0.0.2/32", "127.0.0.1/32");
    std::fs::write(etc.join(format!("{name}.toml")), settings).unwrap();
    let exec = unit_value(&read("systemd/thingstead@.service"), "ExecStart")
        .replace("%i", name)
        .replace("/etc/thingstead", &etc.display().to_string());
    let mut words = exec.split_whitespace();
    assert_eq!(words.next(), Some("/usr/local/bin/thingstead"));
    let mut cmd = env.bare();
    cmd.args(words).arg("--ready-file").arg(env.ready_file());
    env.spawn_server(cmd)
}

/// HAProxy running the example configuration, rewritten to the nodes' ports.
struct Haproxy {
    child: Child,
    devices: u16,
    http: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn haproxy_binary() -> PathBuf {
    ["/usr/sbin/haproxy", "/usr/local/sbin/haproxy", "/usr/bin/haproxy"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!("this test needs HAProxy (apt-get install haproxy; scripts/test-engines installs it)")
        })
}

fn start_haproxy(nodes: &[&Server]) -> Haproxy {
    let (devices, http) = (free_port(), free_port());
    let mut cfg = read("haproxy/haproxy.cfg")
        .replace("0.0.0.0:9999", &format!("127.0.0.1:{devices}"))
        .replace("0.0.0.0:8080", &format!("127.0.0.1:{http}"))
        // Faster health checks than production, so the test sees a failover quickly.
        .replace(" check ", " check inter 200 fall 1 rise 1 ");
    for (i, node) in nodes.iter().enumerate() {
        let host = format!("10.0.0.1{}", i + 1);
        cfg = cfg
            .replace(&format!("{host}:9999"), &node.device_tcp.to_string())
            .replace(&format!("{host}:8080"), &node.http.to_string());
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("haproxy.cfg");
    std::fs::write(&path, cfg).unwrap();
    let check = Command::new(haproxy_binary())
        .arg("-c")
        .arg("-f")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "haproxy -c refuses the example:\n{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let child = Command::new(haproxy_binary())
        .arg("-db")
        .arg("-f")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Haproxy {
        child,
        devices,
        http,
        _dir: dir,
    }
}

/// The data of every message of the org, read through `http`.
async fn stored(http: &str, apikey: &str) -> Vec<String> {
    let url = format!("http://{http}/api/1/csr/rdm?apikey={apikey}&limit=1000");
    let Ok(r) = http_client().get(url).send().await else {
        return Vec::new();
    };
    let Ok(page) = r.json::<Value>().await else {
        return Vec::new();
    };
    page["data"]
        .as_array()
        .map(|a| a.iter().filter_map(|m| m["data"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_from_the_example_serve_through_haproxy_and_survive_one_dying() {
    let cluster = Cluster::start().await;
    let (one, two, admin) = (Env::new(), Env::new(), Env::new());
    let etc = admin.root().join("etc");
    std::fs::create_dir(&etc).unwrap();
    std::fs::copy(cluster.key_file(), etc.join("master.key")).unwrap();
    let nats = cluster.nats.url();
    let node1 = start_node(&one, "node1", &etc, &cluster.db, &nats);
    let node2 = start_node(&two, "node2", &etc, &cluster.db, &nats);

    // Admin with the same settings file as a node.
    let admin_cmd = |args: &[&str]| {
        let mut c = admin.bare();
        c.arg("--config").arg(etc.join("node1.toml")).arg("admin").args(args);
        admin.run(c).json()
    };
    admin_cmd(&["org", "create", "acme"]);
    let devicekey = admin_cmd(&["device", "create", "--org", "acme"])["devicekey"]
        .as_str()
        .unwrap()
        .to_owned();
    let apikey = admin_cmd(&["apikey", "create", "--org", "acme"])["apikey"]
        .as_str()
        .unwrap()
        .to_owned();

    let lb = start_haproxy(&[&node1, &node2]);
    let lb_devices = format!("127.0.0.1:{}", lb.devices).parse().unwrap();
    let lb_http = format!("127.0.0.1:{}", lb.http);
    eventually(
        Duration::from_secs(10),
        || "HAProxy serves /healthz".into(),
        || async {
            http_client()
                .get(format!("http://{lb_http}/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        },
    )
    .await;

    // Devices through the balancer land on both nodes; REST reads all of them.
    let mut sent = Vec::new();
    for i in 0..10 {
        let data = format!("via-lb-{i}");
        let reply = send_frame(lb_devices, &devicekey, &data, &["deploy"]).await.unwrap();
        assert_eq!(reply, "[0,0]", "message {i} through HAProxy");
        sent.push(data);
    }
    eventually(
        Duration::from_secs(10),
        || "all ten messages readable through HAProxy".into(),
        || async {
            let got = stored(&lb_http, &apikey).await;
            sent.iter().all(|s| got.contains(s))
        },
    )
    .await;

    // One node dies: the balancer's health check takes it out, and devices
    // and REST keep working through the other.
    node1.kill();
    let data = "after-node1-died".to_owned();
    eventually(
        Duration::from_secs(15),
        || "a device message stored through the surviving node".into(),
        || async {
            matches!(
                send_frame(lb_devices, &devicekey, &data, &["deploy"]).await.as_deref(),
                Ok("[0,0]")
            )
        },
    )
    .await;
    eventually(
        Duration::from_secs(10),
        || "the message readable through HAProxy".into(),
        || async { stored(&lb_http, &apikey).await.contains(&data) },
    )
    .await;
    node2.stop().await;
    drop(lb);
}
