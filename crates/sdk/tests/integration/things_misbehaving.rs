//! The things SDK against misbehaving servers (a few lines of HTTP over a
//! real socket): the list stream fetches pages only as items are consumed,
//! and stops with an error when a cursor comes back instead of looping
//! forever; a body that does not fit the model is a decode error with the
//! raw response; a server that never answers is a timeout within the
//! client's limit.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use serde_json::json;
use thingstead::things::{Query, ThingsApi, ThingsError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A server answering every request with the page of categories for its
/// `next_cursor`: none → c1, c2 and cursor `a`; `a` → c3, c4 and `b`;
/// `b` → c5 and `a` again (a repeated cursor); under `/spaces/bad/` a body
/// that is not a list. Returns its URL and the request counter.
async fn looping_server() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let line = String::from_utf8_lossy(&head)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let body = if line.contains("/spaces/bad/") {
                    json!({"data": "not a list"})
                } else if line.contains("next_cursor=a") {
                    json!({"data": [{"name": "c3"}, {"name": "c4"}], "paging": {"next_cursor": "b"}})
                } else if line.contains("next_cursor=b") {
                    json!({"data": [{"name": "c5"}], "paging": {"next_cursor": "a"}})
                } else {
                    json!({"data": [{"name": "c1"}, {"name": "c2"}], "paging": {"next_cursor": "a"}})
                }
                .to_string();
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    (url, count)
}

fn names(items: &[thingstead::things::Category]) -> Vec<&str> {
    items.iter().map(|c| c.name.as_str()).collect()
}

#[tokio::test]
async fn pages_are_fetched_lazily_and_a_repeated_cursor_ends_the_stream() {
    let (url, requests) = looping_server().await;
    let api = ThingsApi::builder().host(url).build().expect("api");
    api.set_token("t").await;
    let pages = api.space("s").categories().list(Query::new());
    assert!(pages.collect_all(0).await.expect("nothing").is_empty());
    assert_eq!(requests.load(Ordering::SeqCst), 0, "collect_all(0) fetches nothing");

    let two: Vec<_> = pages.stream().take(2).try_collect().await.expect("two");
    assert_eq!(names(&two), ["c1", "c2"]);
    assert_eq!(
        requests.load(Ordering::SeqCst),
        1,
        "two items come from the first page alone"
    );

    let all: Vec<_> = pages.stream().collect().await;
    let items: Vec<_> = all.iter().filter_map(|r| r.as_ref().ok().cloned()).collect();
    assert_eq!(names(&items), ["c1", "c2", "c3", "c4", "c5"]);
    assert!(
        matches!(all.last(), Some(Err(ThingsError::RepeatedCursor { cursor })) if cursor == "a"),
        "{all:?}"
    );
    assert_eq!(requests.load(Ordering::SeqCst), 4, "three more pages, then it stopped");
}

#[tokio::test]
async fn a_body_that_does_not_fit_the_model_is_a_decode_error_with_the_raw_response() {
    let (url, _) = looping_server().await;
    let api = ThingsApi::builder().host(url).build().expect("api");
    let err = api
        .space("bad")
        .categories()
        .list(Query::new())
        .first()
        .await
        .expect_err("not a list");
    let ThingsError::Decode { raw, .. } = &err else {
        panic!("expected a decode error: {err:?}");
    };
    assert_eq!(raw.status, 200);
    assert!(raw.text().contains("not a list"), "{}", raw.text());
}

#[tokio::test]
async fn a_server_that_never_answers_is_a_timeout_within_the_limit() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let api = ThingsApi::builder()
        .host(url)
        .timeout(Duration::from_millis(300))
        .build()
        .expect("api");
    let started = Instant::now();
    let err = api.space("s").thing("t").get().await.expect_err("no answer");
    assert!(matches!(err, ThingsError::Timeout(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    let err = api.set_credentials("id", "secret", &[]).await.expect_err("no answer");
    assert!(matches!(err, ThingsError::Timeout(_)), "{err:?}");
    silent.abort();
}
