//! The PostgreSQL backend from the command line: the master key every node
//! shares, and a node that has none refusing to start.

use std::os::unix::fs::PermissionsExt;

use crate::support::Env;

#[test]
fn master_key_generate_writes_a_private_key_and_never_replaces_one() {
    let env = Env::new();
    let path = env.root().join("keys").join("master.key");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let out = env.run({
        let mut c = env.bare();
        c.args(["admin", "master-key", "generate", "--out"]).arg(&path);
        c
    });
    let json = out.json();
    assert_eq!(json["master_key_file"], path.display().to_string());
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.trim().len(), 64, "{text:?}");
    assert!(text.trim().chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    // The admin command needs no store and makes none.
    assert!(!env.data_dir().exists());

    let again = env.run({
        let mut c = env.bare();
        c.args(["admin", "master-key", "generate", "--out"]).arg(&path);
        c
    });
    let line = again.error_line();
    assert!(line.contains(&path.display().to_string()), "{line}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        text,
        "the key is never replaced"
    );
}

#[test]
fn a_postgres_node_without_a_master_key_file_refuses_to_start() {
    let env = Env::new();
    let mut serve = env.serve_cmd(&["--http", "127.0.0.1:0", "--device-tcp", "127.0.0.1:0"]);
    serve.env("THINGSTEAD_STORE__BACKEND", "postgres").env(
        "THINGSTEAD_STORE__URL",
        "postgres://thingstead:pw-9931@127.0.0.1:1/things",
    );
    let out = env.run(serve);
    assert!(!out.status.success());
    assert!(out.stderr.contains("secrets.master_key_file"), "{}", out.stderr);
    assert!(!out.stderr.contains("pw-9931"), "{}", out.stderr);
    // No embedded store, no serve lock, no key made in the data dir.
    assert!(!env.data_dir().join("master.key").exists());
    assert!(!env.data_dir().join("thingstead.db").exists());
}
