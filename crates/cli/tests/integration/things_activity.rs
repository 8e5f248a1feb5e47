//! `thingstead things action ...` and `thingstead things event ...`: the
//! real binary against a real server.

use serde_json::{Value, json};

use super::support::Env;
use super::things::{as_client, lines, orgs_and_clients};

/// The id of an action or event answer `{"<name>": {"href": ".../ID"}}`.
fn id_of(answer: &Value, name: &str) -> String {
    let href = answer[name]["href"]
        .as_str()
        .unwrap_or_else(|| panic!("no href: {answer}"));
    href.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_and_events_are_created_listed_read_updated_and_deleted() {
    let env = Env::new();
    let (acme, _) = orgs_and_clients(&env);
    let server = env.start();
    let run = |args: &[&str]| env.run(as_client(&env, &server, &acme, args));
    let lamp = json!({
        "uid": "lamp-1",
        "title": "lamp",
        "actions": {
            "fade": {"input": {"type": "object", "properties": {"level": {"type": "integer", "minimum": 0, "maximum": 100}}, "required": ["level"]}},
            "reboot": {}
        },
        "events": {"overheated": {"data": {"type": "number"}}, "ping": {}}
    });
    run(&["things", "create", &lamp.to_string()]).json();

    let fade = run(&["things", "action", "create", "lamp-1", "fade", r#"{"level": 30}"#]).json();
    assert_eq!(fade["fade"]["status"], "pending", "{fade}");
    assert_eq!(fade["fade"]["input"], json!({"level": 30}), "{fade}");
    let id = id_of(&fade, "fade");
    let reboot = run(&["things", "action", "create", "lamp-1", "reboot"]).json();
    assert_eq!(reboot["reboot"]["status"], "pending", "{reboot}");
    let e = run(&["things", "action", "create", "lamp-1", "fade", r#"{"level": 300}"#]).error_line();
    assert!(e.contains("HTTP 400"), "outside the input schema: {e}");

    assert_eq!(
        lines(&run(&["things", "action", "list", "lamp-1", "--page-size", "1"])).len(),
        2
    );
    let fades = lines(&run(&["things", "action", "list", "lamp-1", "fade"]));
    assert_eq!(fades.len(), 1, "{fades:?}");
    let got = run(&["things", "action", "get", "lamp-1", "fade", &id]).json();
    assert_eq!(got["fade"]["status"], "pending", "{got}");
    let done = run(&[
        "things",
        "action",
        "update",
        "lamp-1",
        "fade",
        &id,
        "--status",
        "completed",
        "--output",
        r#"{"ok": true}"#,
    ])
    .json();
    assert_eq!(done["fade"]["status"], "completed", "{done}");
    assert_eq!(done["fade"]["output"], json!({"ok": true}), "{done}");
    assert!(done["fade"]["timeCompleted"].is_string(), "{done}");
    run(&["things", "action", "delete", "lamp-1", "fade", &id]).json();
    let e = run(&["things", "action", "get", "lamp-1", "fade", &id]).error_line();
    assert!(e.contains("HTTP 404"), "{e}");

    let hot = run(&["things", "event", "create", "lamp-1", "overheated", "81.5"]).json();
    assert_eq!(hot["overheated"]["data"], 81.5, "{hot}");
    assert!(hot["overheated"]["timestamp"].is_string(), "{hot}");
    let hot_id = id_of(&hot, "overheated");
    run(&["things", "event", "create", "lamp-1", "ping"]).json();
    let e = run(&["things", "event", "create", "lamp-1", "overheated", "warm"]).error_line();
    assert!(e.contains("HTTP 400"), "a string is not a number: {e}");
    assert_eq!(
        lines(&run(&["things", "event", "list", "lamp-1", "--page-size", "1"])).len(),
        2
    );
    assert_eq!(
        lines(&run(&["things", "event", "list", "lamp-1", "--limit", "1"])).len(),
        1
    );
    assert_eq!(
        lines(&run(&["things", "event", "list", "lamp-1", "overheated"])).len(),
        1
    );
    let got = run(&["things", "event", "get", "lamp-1", "overheated", &hot_id]).json();
    assert_eq!(got["overheated"]["data"], 81.5, "{got}");
    run(&["things", "event", "delete", "lamp-1", "overheated", &hot_id]).json();
    let e = run(&["things", "event", "get", "lamp-1", "overheated", &hot_id]).error_line();
    assert!(e.contains("HTTP 404"), "{e}");
    server.kill();
}
