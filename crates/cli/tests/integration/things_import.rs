//! `thingstead things import` and `things list` over many pages: the real
//! binary against a real server.

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};

use super::support::{Env, Output, Server, http_client, wait_timeout};
use super::things::{as_client, lines, orgs_and_clients};

fn thing(title: &str, categories: &[&str]) -> String {
    json!({
        "title": title,
        "categories": categories,
        "properties": {"temperature": {"type": "number", "maximum": 100}}
    })
    .to_string()
}

/// A failed run that still printed its summary: the summary and the one
/// `error: ...` line.
#[track_caller]
fn failed_with_summary(out: &Output) -> (Value, String) {
    assert!(!out.status.success(), "{} succeeded: {}", out.what, out.stdout);
    let summary = serde_json::from_str(out.stdout.trim())
        .unwrap_or_else(|e| panic!("{}: stdout is not one JSON summary ({e}): {:?}", out.what, out.stdout));
    let lines: Vec<&str> = out.stderr.trim_end().lines().collect();
    assert_eq!(lines.len(), 1, "{}: stderr {:?}", out.what, out.stderr);
    assert!(lines[0].starts_with("error: "), "{}", lines[0]);
    (summary, lines[0].to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_creates_the_good_lines_and_reports_each_bad_one() {
    let env = Env::new();
    let (acme, _) = orgs_and_clients(&env);
    let server = env.start();
    let run = |args: &[&str]| env.run(as_client(&env, &server, &acme, args));

    let file = [
        thing("t1", &[]),
        "{\"title\": \"t2\"".to_owned(), // 2: not JSON
        String::new(),                   // 3: blank, skipped
        thing("t4", &[]),
        "[1, 2]".to_owned(),             // 5: not an object
        json!({"title": 7}).to_string(), // 6: refused by the server
        thing("t7", &[]),
        json!({"title": "t8"}).to_string(),
    ]
    .join("\n");
    let path = env.write("things.jsonl", &file);
    let out = run(&["things", "import", path.to_str().unwrap(), "--concurrency", "3"]);
    let (summary, line) = failed_with_summary(&out);
    assert!(line.contains("3 of 7"), "{line}");
    assert_eq!(summary["created"], 4, "{summary}");
    assert_eq!(summary["failed"], 3, "{summary}");
    let failures = summary["failures"].as_array().expect("failures");
    let at: Vec<u64> = failures.iter().map(|f| f["line"].as_u64().unwrap()).collect();
    assert_eq!(at, [2, 5, 6], "{summary}");
    assert!(failures[0]["error"].as_str().unwrap().contains("not JSON"), "{summary}");
    assert!(
        failures[1]["error"].as_str().unwrap().contains("not a JSON object"),
        "{summary}"
    );
    assert!(failures[2]["error"].as_str().unwrap().contains("400"), "{summary}");

    let mut titles: Vec<String> = lines(&run(&["things", "list"]))
        .iter()
        .map(|t| t["title"].as_str().unwrap_or("").to_owned())
        .collect();
    titles.sort();
    assert_eq!(titles, ["t1", "t4", "t7", "t8"]);

    // From stdin, every line good: exit 0.
    let mut cmd = as_client(&env, &server, &acme, &["things", "import", "-"]);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn import");
    let mut stdin = child.stdin.take().expect("stdin");
    writeln!(stdin, "{}\n{}", thing("s1", &[]), thing("s2", &[])).unwrap();
    drop(stdin);
    let status = wait_timeout(&mut child, Duration::from_secs(30)).expect("import finishes");
    let output = child.wait_with_output().expect("output");
    assert!(status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: Value = serde_json::from_slice(&output.stdout).expect("summary");
    assert_eq!(summary, json!({"created": 2, "failed": 0, "failures": []}));
    assert!(
        output.stderr.is_empty(),
        "no progress bar when stderr is not a terminal"
    );
    server.kill();
}

/// `GET /spaces/{space}/things` requests the server has answered, from
/// its `/metrics`.
async fn list_requests(server: &Server) -> f64 {
    let text = http_client()
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .filter(|l| l.starts_with("thingstead_http_requests_total{"))
        .filter(|l| l.contains("route=\"/spaces/{space}/things\"") && l.contains("method=\"GET\""))
        .filter_map(|l| l.rsplit_once(' ').and_then(|(_, v)| v.parse::<f64>().ok()))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_pages_through_every_thing_with_filters_sort_and_limit() {
    let env = Env::new();
    let (acme, _) = orgs_and_clients(&env);
    let server = env.start();
    let run = |args: &[&str]| env.run(as_client(&env, &server, &acme, args));
    run(&["categories", "create", "hot"]).json();
    let file: Vec<String> = (0..9)
        .map(|i| {
            let cats: &[&str] = if i >= 6 { &["hot"] } else { &[] };
            thing(&format!("t{i}"), cats)
        })
        .collect();
    let path = env.write("things.jsonl", &file.join("\n"));
    let summary = run(&["things", "import", path.to_str().unwrap()]).json();
    assert_eq!(summary["created"], 9, "{summary}");
    // Temperatures 0, 5, ... 40 for t0 ... t8.
    for t in lines(&run(&["things", "list"])) {
        let title = t["title"].as_str().unwrap();
        let n: u32 = title[1..].parse().unwrap();
        let temp = (n * 5).to_string();
        run(&[
            "things",
            "props",
            "set",
            t["uid"].as_str().unwrap(),
            "temperature",
            &temp,
        ])
        .json();
    }

    let titles = |out: &Output| -> Vec<String> {
        lines(out)
            .iter()
            .map(|t| t["title"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    // Nine things, two per page: five requests, every thing once.
    let before = list_requests(&server).await;
    let mut all = titles(&run(&["things", "list", "--page-size", "2"]));
    assert_eq!(all.len(), 9, "{all:?}");
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 9, "no thing twice");
    assert_eq!(list_requests(&server).await - before, 5.0, "one request per page");
    // Pages are fetched only as they are printed: three things, two pages.
    let before = list_requests(&server).await;
    assert_eq!(
        titles(&run(&["things", "list", "--page-size", "2", "--limit", "3"])).len(),
        3
    );
    assert_eq!(list_requests(&server).await - before, 2.0, "no page after the limit");
    assert_eq!(
        titles(&run(&[
            "things",
            "list",
            "--filter",
            "property:temperature=gte:25",
            "--sort",
            "-status.temperature",
            "--page-size",
            "2"
        ])),
        ["t8", "t7", "t6", "t5"],
        "temperature >= 25, hottest first"
    );
    let mut hot = titles(&run(&["things", "list", "--category", "hot"]));
    hot.sort();
    assert_eq!(hot, ["t6", "t7", "t8"]);
    let uids: Vec<String> = lines(&run(&["things", "list", "--filter", "title=t1"]))
        .iter()
        .map(|t| t["uid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(uids.len(), 1);
    assert_eq!(titles(&run(&["things", "list", "--thing-id", &uids[0]])), ["t1"]);
    let e = run(&["things", "list", "--filter", "temperature"]).error_line();
    assert!(e.contains("KEY=VALUE"), "{e}");

    // delete-matching: refuses without a filter, deletes the matches.
    let e = run(&["things", "delete-matching"]).error_line();
    assert!(e.contains("at least one"), "{e}");
    let deleted = lines(&run(&["things", "delete-matching", "--category", "hot"]));
    assert_eq!(deleted.len(), 3, "{deleted:?}");
    assert_eq!(titles(&run(&["things", "list"])).len(), 6);
    server.kill();
}
