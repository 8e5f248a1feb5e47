//! `thingstead admin space retention`: per-space limits of property
//! history and events, shown and changed one at a time.

use serde_json::json;

use crate::support::Env;

#[test]
fn space_retention_is_shown_set_per_limit_and_cleared() {
    let env = Env::new();
    env.admin(&["org", "create", "acme"]);
    let unlimited = json!({ "space": "acme", "history_days": null, "events_days": null });
    assert_eq!(env.admin(&["space", "retention", "--org", "acme"]), unlimited);

    let v = env.admin(&["space", "retention", "--org", "acme", "--history-days", "30"]);
    assert_eq!(v, json!({ "space": "acme", "history_days": 30, "events_days": null }));
    let v = env.admin(&["space", "retention", "--org", "acme", "--events-days", "7"]);
    assert_eq!(v, json!({ "space": "acme", "history_days": 30, "events_days": 7 }));
    // Kept in the store: a later command reads it back.
    assert_eq!(env.admin(&["space", "retention", "--org", "acme"]), v);

    let v = env.admin(&["space", "retention", "--org", "acme", "--history-days", "none"]);
    assert_eq!(v, json!({ "space": "acme", "history_days": null, "events_days": 7 }));
    let v = env.admin(&[
        "space",
        "retention",
        "--org",
        "acme",
        "--events-days",
        "none",
        "--history-days",
        "2",
    ]);
    assert_eq!(v, json!({ "space": "acme", "history_days": 2, "events_days": null }));

    let e = env.admin_err(&["space", "retention", "--org", "nope", "--events-days", "1"]);
    assert!(e.contains("not found"), "{e}");
    for bad in ["0", "-3", "soon", "36501"] {
        assert!(
            !env.admin_out(&["space", "retention", "--org", "acme", "--events-days", bad])
                .status
                .success(),
            "{bad}"
        );
    }
    assert_eq!(
        env.admin(&["space", "retention", "--org", "acme"]),
        json!({ "space": "acme", "history_days": 2, "events_days": null })
    );
}
