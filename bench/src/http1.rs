//! One HTTP/1.1 keep-alive connection for load generators, on hyper's
//! client connection API.
//!
//! reqwest's pooled client costs the generator several times the CPU of a
//! bare connection per request, and the generator shares this machine's 2
//! cores with the server it measures: every microsecond it spends is one
//! the server does not get. A bare connection (one request at a time, no
//! pool, no redirects, no decompression) is what `wrk` would use.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;

/// A response: its status and whole body.
#[derive(Debug)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The body.
    pub body: Bytes,
}

/// Why a request got no reply.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// No reply within the timeout.
    Timeout,
    /// The connection failed (it is reopened for the next request).
    Connection,
}

/// One keep-alive connection from a chosen source address, reopened after
/// a failure.
pub struct Connection {
    server: SocketAddr,
    source: IpAddr,
    host: HeaderValue,
    timeout: Duration,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Connection {
    /// Opens a connection to `server` (loopback only) from `source`.
    pub async fn open(server: SocketAddr, source: IpAddr, timeout: Duration) -> anyhow::Result<Self> {
        crate::require_loopback(server)?;
        let mut c = Self {
            server,
            source,
            host: HeaderValue::from_str(&server.to_string())?,
            timeout,
            sender: None,
        };
        c.sender = Some(c.connect().await?);
        Ok(c)
    }

    async fn connect(&self) -> anyhow::Result<SendRequest<Full<Bytes>>> {
        let socket = match self.source {
            IpAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
            IpAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
        };
        socket.bind(SocketAddr::new(self.source, 0))?;
        let stream = socket.connect(self.server).await.context("connect")?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        Ok(sender)
    }

    /// Sends one request (`body` as JSON when given, `token` as a bearer
    /// token) and reads the whole reply.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        token: Option<&HeaderValue>,
        body: Option<Bytes>,
    ) -> Result<Reply, Failure> {
        let sender = match self.sender.as_mut() {
            Some(s) if !s.is_closed() => s,
            _ => {
                self.sender = Some(self.connect().await.map_err(|_| Failure::Connection)?);
                self.sender.as_mut().ok_or(Failure::Connection)?
            }
        };
        let mut req = Request::builder().method(method).uri(path).header(HOST, &self.host);
        if let Some(token) = token {
            req = req.header(AUTHORIZATION, token);
        }
        if body.is_some() {
            req = req.header(CONTENT_TYPE, "application/json");
        }
        let req = req
            .body(Full::new(body.unwrap_or_default()))
            .map_err(|_| Failure::Connection)?;
        let exchange = async {
            sender.ready().await?;
            let response = sender.send_request(req).await?;
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>(Reply { status, body })
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(_)) => {
                self.sender = None;
                Err(Failure::Connection)
            }
            Err(_) => {
                // The reply may still come: this connection is out of step.
                self.sender = None;
                Err(Failure::Timeout)
            }
        }
    }
}

/// `Bearer {token}` as a header value.
pub fn bearer(token: &str) -> anyhow::Result<HeaderValue> {
    let mut v = HeaderValue::from_str(&format!("Bearer {token}"))?;
    v.set_sensitive(true);
    Ok(v)
}
