//! The data dir: one server per dir, no store made by a mistyped path, and
//! credentials at rest that a copy of the database does not reveal.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use crate::support::{Env, wait_timeout};

fn absolute(p: &std::path::Path) -> String {
    std::fs::canonicalize(p).unwrap().display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_the_same_data_dir_exits_at_once_naming_the_first() {
    let env = Env::new();
    let first = env.start();
    let started = Instant::now();
    let mut second = env
        .serve_cmd(&["--http", "127.0.0.1:0", "--device-tcp", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_timeout(&mut second, Duration::from_secs(5)).expect("the second server must exit");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert!(!status.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut second.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains(&absolute(&env.data_dir())), "{stderr}");
    assert!(stderr.contains(&first.pid().to_string()), "{stderr}");

    // Admin commands still work beside the running server.
    env.admin(&["org", "create", "acme"]);
    first.stop().await;
    // Once the first is gone, the dir is free again.
    env.start().stop().await;
}

#[test]
fn servers_started_together_on_a_new_dir_leave_one_running_and_a_clear_error() {
    let env = Env::new();
    let spawn = |i: usize| {
        let ready = env.root().join(format!("ready-{i}.json"));
        let mut c = env.bare();
        c.arg("serve").arg("--data-dir").arg(env.data_dir());
        c.args(["--http", "127.0.0.1:0", "--device-tcp", "127.0.0.1:0", "--ready-file"]);
        c.arg(&ready);
        c.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        (c.spawn().unwrap(), ready)
    };
    let mut servers: Vec<_> = (0..3).map(spawn).collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut exited = Vec::new();
    while Instant::now() < deadline && exited.len() < 2 {
        for (i, (child, _)) in servers.iter_mut().enumerate() {
            if !exited.contains(&i) && child.try_wait().unwrap().is_some() {
                exited.push(i);
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(exited.len(), 2, "exactly two of three servers must give up");
    for &i in &exited {
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut servers[i].0.stderr.take().unwrap(), &mut stderr).unwrap();
        assert!(stderr.contains("another thingstead server"), "{stderr}");
        assert!(!stderr.contains("already exists"), "{stderr}");
    }
    let running = (0..3).find(|i| !exited.contains(i)).unwrap();
    let ready = &servers[running].1;
    let until = Instant::now() + Duration::from_secs(20);
    while !ready.exists() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(ready.exists(), "the remaining server never became ready");
    for (mut child, _) in servers {
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[test]
fn admin_on_a_mistyped_data_dir_fails_naming_it_and_creates_nothing() {
    let env = Env::new();
    let typo = env.root().join("typo");
    let mut cmd = env.bare();
    cmd.arg("--data-dir").arg(&typo).args(["admin", "org", "list"]);
    let e = env.run(cmd).error_line();
    assert!(e.contains(&typo.display().to_string()), "{e}");
    assert!(e.contains("no Thingstead store"), "{e}");
    assert!(!typo.exists(), "a failing admin command made {}", typo.display());

    // `org create` is the one command that makes a store, and says where.
    let out = env.admin_out(&["org", "create", "acme"]);
    out.json();
    assert!(out.stderr.contains(&absolute(&env.data_dir())), "{}", out.stderr);
    assert_eq!(env.admin(&["org", "list"]).as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_logs_the_absolute_data_dir() {
    let env = Env::new();
    let server = env.start();
    let logs = server.logs();
    assert!(logs.contains(&absolute(&env.data_dir())), "{logs}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_files_hold_no_device_credential_and_every_file_is_private() {
    let env = Env::new();
    let server = env.start();
    env.admin(&["org", "create", "acme"]);
    let d = env.admin(&["device", "create", "--org", "acme", "--name", "pump"]);
    let (key, secret) = (d["devicekey"].as_str().unwrap(), d["secret"].as_str().unwrap());
    // The running server authenticates the device by its key all the same.
    let reply = crate::support::send_frame(server.device_tcp, key, "hi", &["t"])
        .await
        .unwrap();
    assert_eq!(reply, "[0,0]");

    let mut checked = 0;
    for entry in std::fs::read_dir(env.data_dir()).unwrap() {
        let path = entry.unwrap().path();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} has mode {mode:o}", path.display());
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("thingstead.db") {
            let raw = std::fs::read(&path).unwrap();
            for (what, s) in [("device key", key), ("secret", secret)] {
                assert!(
                    !raw.windows(s.len()).any(|w| w == s.as_bytes()),
                    "{what} found in {name}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 2, "the database and its WAL were not both checked");
    server.stop().await;
}
