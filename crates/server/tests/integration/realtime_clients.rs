//! Clients of the realtime face for tests: logins, a hand-rolled Engine.IO 3
//! polling client (as socketIO-client 0.7.2 speaks it, binary framing via
//! the proto codec), and an Engine.IO 4 websocket client.

use std::time::Duration;

use base64::Engine;
use futures::{SinkExt, StreamExt};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use thingstead_proto::engineio::{Packet, PayloadLimits, binary};
use thingstead_server::testing::TestServer;
use tokio_tungstenite::tungstenite::Message;

use super::common::http;

/// Creates a user in `org` (which must exist) and logs in: the token.
pub async fn user_token(server: &TestServer, org: &str, username: &str) -> String {
    let t = server.platform().tenant(org).await.expect("org");
    server
        .platform()
        .create_user(&t, username, "correct horse battery")
        .await
        .expect("user");
    login(
        server,
        &json!({"username": username, "password": "correct horse battery", "organization": org}),
    )
    .await
}

/// Creates a consumer app in `org` and logs in with its JWT: the token.
pub async fn app_token(server: &TestServer, org: &str) -> String {
    let t = server.platform().tenant(org).await.expect("org");
    let app = server.platform().create_app(&t, None).await.expect("app");
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
        + 30_000;
    let head = b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = b64.encode(json!({"type": "consumerApp", "uuid": app.uuid, "exp": exp}).to_string());
    let signed = format!("{head}.{body}");
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(app.api_key.as_bytes()).expect("key");
    mac.update(signed.as_bytes());
    let jwt = format!("{signed}.{}", b64.encode(mac.finalize().into_bytes()));
    login(server, &json!({ "token": jwt })).await
}

async fn login(server: &TestServer, body: &Value) -> String {
    let r = http()
        .post(server.url("/api/auth/login"))
        .json(body)
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("auth payload");
    v["token"].as_str().expect("token").to_owned()
}

/// `POST /api/networks/current/broadcasts?timeout=..`: status and body.
pub async fn broadcast(server: &TestServer, token: &str, timeout: &str, body: &Value) -> (u16, Value) {
    let r = http()
        .post(server.url(&format!("/api/networks/current/broadcasts?timeout={timeout}")))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("POST broadcasts");
    let status = r.status().as_u16();
    (status, r.json().await.expect("JSON body"))
}

/// `POST /api/networks/current/responses`: the status.
pub async fn respond(server: &TestServer, token: &str, body: &Value) -> u16 {
    http()
        .post(server.url("/api/networks/current/responses"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("POST responses")
        .status()
        .as_u16()
}

/// A socket.io EVENT's name and first argument, from an Engine.IO message's data (`2[...]`).
pub fn event(data: &str) -> Option<(String, Value)> {
    let args: Vec<Value> = serde_json::from_str(data.strip_prefix('2')?).ok()?;
    let name = args.first()?.as_str()?.to_owned();
    Some((name, args.get(1).cloned().unwrap_or(Value::Null)))
}

/// An Engine.IO 3 long-polling session, framed as exp-sdk's client frames it.
pub struct Eio3 {
    url: String,
    client: reqwest::Client,
    /// The OPEN packet's JSON.
    pub open: Value,
}

impl Eio3 {
    /// The handshake: `GET ?EIO=3&transport=polling&token=..`; returns the
    /// session and the handshake response's packets.
    pub async fn handshake(server: &TestServer, token: &str) -> Result<(Self, Vec<Packet>), reqwest::StatusCode> {
        let base = server.url("/socket.io/");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        let r = client
            .get(format!("{base}?EIO=3&transport=polling&t=1-0&token={token}"))
            .send()
            .await
            .expect("handshake");
        if r.status() != 200 {
            return Err(r.status());
        }
        let bytes = r.bytes().await.expect("body");
        let packets = binary::parse(&bytes, &PayloadLimits::default()).expect("a binary-framed payload");
        let Some(Packet::Open(json)) = packets.first() else {
            panic!("the first packet is not OPEN: {packets:?}");
        };
        let open: Value = serde_json::from_str(json).expect("OPEN JSON");
        let sid = open["sid"].as_str().expect("sid").to_owned();
        let url = format!("{base}?EIO=3&transport=polling&token={token}&sid={sid}");
        Ok((Self { url, client, open }, packets))
    }

    /// One long poll: the packets of one binary-framed payload.
    pub async fn poll(&self) -> Vec<Packet> {
        let r = self.client.get(&self.url).send().await.expect("poll");
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.headers().get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/octet-stream")
        );
        let bytes = r.bytes().await.expect("body");
        binary::parse(&bytes, &PayloadLimits::default()).expect("a binary-framed payload")
    }

    /// Polls until a packet satisfies `want` (bounded by 10 s), returning it.
    pub async fn poll_until(&self, mut want: impl FnMut(&Packet) -> bool) -> Packet {
        let found = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let Some(p) = self.poll().await.into_iter().find(|p| want(p)) {
                    return p;
                }
            }
        })
        .await;
        found.expect("the packet arrives within 10 s")
    }

    /// POSTs packets in binary framing, as the old client does.
    pub async fn send(&self, packets: &[Packet]) {
        let r = self
            .client
            .post(&self.url)
            .header("content-type", "application/octet-stream")
            .body(binary::encode(packets))
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), 200);
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// An Engine.IO 4 websocket connection.
pub struct Eio4 {
    ws: Ws,
}

/// How an Engine.IO 4 client gives its token.
pub enum TokenIn<'a> {
    /// `&token=..` in the URL.
    Query(&'a str),
    /// `40{"token":..}`.
    Connect(&'a str),
}

impl Eio4 {
    /// Opens the websocket, reads OPEN, sends CONNECT: the connection and
    /// the server's answer to CONNECT (`0{"sid"..}` or `4{"message"..}`).
    pub async fn connect(server: &TestServer, token: TokenIn<'_>) -> (Self, String) {
        let mut url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", server.http);
        let connect = match token {
            TokenIn::Query(t) => {
                url.push_str(&format!("&token={t}"));
                "40".to_owned()
            }
            TokenIn::Connect(t) => format!("40{}", json!({ "token": t })),
        };
        let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("websocket");
        let mut me = Self { ws };
        let open = me.next_text().await;
        assert!(open.starts_with('0'), "OPEN first: {open}");
        let open: Value = serde_json::from_str(&open[1..]).expect("OPEN JSON");
        for key in ["sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"] {
            assert!(open.get(key).is_some(), "{key} in {open}");
        }
        me.send(&connect).await;
        let answer = me.next_text().await;
        let answer = answer.strip_prefix('4').expect("a socket.io packet").to_owned();
        (me, answer)
    }

    /// Connects and asserts the CONNECT was accepted.
    pub async fn connected(server: &TestServer, token: &str) -> Self {
        let (me, answer) = Self::connect(server, TokenIn::Query(token)).await;
        assert!(answer.starts_with("0{"), "connected: {answer}");
        me
    }

    /// Sends one text frame.
    pub async fn send(&mut self, text: &str) {
        self.ws.send(Message::text(text.to_owned())).await.expect("send");
    }

    /// The next text frame (answering pings), bounded by 10 s; `""` when closed.
    pub async fn next_text(&mut self) -> String {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("a frame within 10 s");
            match msg {
                Some(Ok(Message::Text(t))) if t.as_str() == "2" => self.send("3").await,
                Some(Ok(Message::Text(t))) => return t.as_str().to_owned(),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return String::new(),
                Some(Ok(_)) => {}
            }
        }
    }

    /// Reads for `duration`, answering PINGs; how many it answered.
    pub async fn answer_pings_for(&mut self, duration: Duration) -> usize {
        let mut answered = 0;
        let deadline = tokio::time::Instant::now() + duration;
        while let Ok(msg) = tokio::time::timeout_at(deadline, self.ws.next()).await {
            match msg {
                Some(Ok(Message::Text(t))) if t.as_str() == "2" => {
                    self.send("3").await;
                    answered += 1;
                }
                Some(Ok(_)) => {}
                _ => break,
            }
        }
        answered
    }

    /// Reads without answering PINGs: whether the server closed the
    /// connection within `within`.
    pub async fn read_until_closed_without_pong(&mut self, within: Duration) -> bool {
        let reading = async {
            loop {
                match self.ws.next().await {
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => {}
                }
            }
        };
        tokio::time::timeout(within, reading).await.is_ok()
    }

    /// The next socket.io event (name, first argument).
    pub async fn next_event(&mut self) -> (String, Value) {
        loop {
            let text = self.next_text().await;
            assert!(!text.is_empty(), "connection closed while waiting for an event");
            if let Some(e) = text.strip_prefix('4').and_then(event) {
                return e;
            }
        }
    }

    /// `subscribe` → the ids of `subscribed`.
    pub async fn subscribe(&mut self, ids: &[String]) -> Vec<String> {
        self.send(&format!("42{}", json!(["subscribe", ids]))).await;
        loop {
            let (name, arg) = self.next_event().await;
            if name == "subscribed" {
                return serde_json::from_value(arg).expect("a list of ids");
            }
        }
    }
}

impl Eio4 {
    /// A connection over a websocket the test opened itself.
    pub fn from_stream(ws: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>) -> Eio4Raw {
        Eio4Raw { ws }
    }
}

/// An Engine.IO 4 websocket over a socket the test configured (buffer sizes).
pub struct Eio4Raw {
    ws: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
}

impl Eio4Raw {
    async fn next_text(&mut self) -> String {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("a frame within 10 s");
            match msg {
                Some(Ok(Message::Text(t))) if t.as_str() == "2" => {
                    self.ws.send(Message::text("3")).await.expect("pong");
                }
                Some(Ok(Message::Text(t))) => return t.as_str().to_owned(),
                Some(Ok(_)) => {}
                _ => return String::new(),
            }
        }
    }

    /// Reads OPEN, sends `40` (token in the URL), expects `40{..}`.
    pub async fn expect_open_and_connect(&mut self) {
        assert!(self.next_text().await.starts_with('0'));
        self.ws.send(Message::text("40")).await.expect("connect");
        assert!(self.next_text().await.starts_with("40{"));
    }

    /// `subscribe` → the ids of `subscribed`.
    pub async fn subscribe(&mut self, ids: &[String]) -> Vec<String> {
        self.ws
            .send(Message::text(format!("42{}", json!(["subscribe", ids]))))
            .await
            .expect("subscribe");
        loop {
            let text = self.next_text().await;
            if let Some(("subscribed", arg)) = text
                .strip_prefix('4')
                .and_then(event)
                .as_ref()
                .map(|(n, a)| (n.as_str(), a.clone()))
            {
                return serde_json::from_value(arg).expect("ids");
            }
        }
    }
}
