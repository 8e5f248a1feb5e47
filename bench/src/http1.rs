//! One HTTP/1.1 keep-alive connection for load generators: the request
//! written straight to the socket, the response read back on the same
//! task and parsed by `httparse` (hyper's parser).
//!
//! The generator shares this machine's 2 cores with the server it
//! measures: every microsecond it spends is one the server does not get.
//! reqwest's pooled client cost several times the CPU of a bare
//! connection, and hyper's client connection, which runs the socket in a
//! task of its own, costs two task wake-ups per request more than reading
//! the reply where it was asked for. What is left is what `wrk` does: one
//! request at a time per connection, no pool, no redirects, no
//! decompression, bodies with a `Content-Length` (the server's replies
//! all have one).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::Context;
use bytes::{Buf, Bytes, BytesMut};
use hyper::header::HeaderValue;
use hyper::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The largest response head read.
const MAX_HEAD: usize = 16 * 1024;
/// The largest response body read.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// Most response headers parsed.
const MAX_HEADERS: usize = 32;

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
    /// The connection failed, or the reply was not HTTP/1.1 with a
    /// `Content-Length` (the connection is reopened for the next request).
    Connection,
}

/// One keep-alive connection from a chosen source address, reopened after
/// a failure.
pub struct Connection {
    server: SocketAddr,
    source: IpAddr,
    host: String,
    timeout: Duration,
    stream: Option<TcpStream>,
    /// The request being written (reused).
    out: Vec<u8>,
    /// What was read and not yet consumed (reused).
    input: BytesMut,
}

impl Connection {
    /// Opens a connection to `server` (loopback only) from `source`.
    pub async fn open(server: SocketAddr, source: IpAddr, timeout: Duration) -> anyhow::Result<Self> {
        crate::require_loopback(server)?;
        let mut c = Self {
            server,
            source,
            host: server.to_string(),
            timeout,
            stream: None,
            out: Vec::with_capacity(1024),
            input: BytesMut::with_capacity(8 * 1024),
        };
        c.stream = Some(c.connect().await?);
        Ok(c)
    }

    async fn connect(&self) -> anyhow::Result<TcpStream> {
        let socket = match self.source {
            IpAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
            IpAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
        };
        socket.bind(SocketAddr::new(self.source, 0))?;
        let stream = socket.connect(self.server).await.context("connect")?;
        stream.set_nodelay(true)?;
        Ok(stream)
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
        if self.stream.is_none() {
            self.input.clear();
            self.stream = Some(self.connect().await.map_err(|_| Failure::Connection)?);
        }
        self.write_request(&method, path, token, body.as_deref());
        let (Some(stream), out, input) = (self.stream.as_mut(), &self.out, &mut self.input) else {
            return Err(Failure::Connection);
        };
        let exchange = async {
            stream.write_all(out).await.map_err(|_| Failure::Connection)?;
            read_reply(stream, input).await
        };
        let result = match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            // The reply may still come: this connection is out of step.
            Err(_) => Err(Failure::Timeout),
        };
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    fn write_request(&mut self, method: &Method, path: &str, token: Option<&HeaderValue>, body: Option<&[u8]>) {
        let out = &mut self.out;
        out.clear();
        for part in [method.as_str(), " ", path, " HTTP/1.1\r\nhost: ", &self.host, "\r\n"] {
            out.extend_from_slice(part.as_bytes());
        }
        if let Some(token) = token {
            out.extend_from_slice(b"authorization: ");
            out.extend_from_slice(token.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        if let Some(body) = body {
            out.extend_from_slice(b"content-type: application/json\r\ncontent-length: ");
            out.extend_from_slice(body.len().to_string().as_bytes());
            out.extend_from_slice(b"\r\n\r\n");
            out.extend_from_slice(body);
        } else {
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// Reads one response (head, then `Content-Length` bytes of body).
async fn read_reply(stream: &mut TcpStream, input: &mut BytesMut) -> Result<Reply, Failure> {
    let (status, head_len, body_len) = loop {
        if let Some(head) = parse_head(input)? {
            break head;
        }
        if input.len() >= MAX_HEAD {
            return Err(Failure::Connection);
        }
        fill(stream, input).await?;
    };
    input.advance(head_len);
    while input.len() < body_len {
        fill(stream, input).await?;
    }
    Ok(Reply {
        status,
        body: input.split_to(body_len).freeze(),
    })
}

/// The status, head length and body length of a complete head in `input`.
fn parse_head(input: &[u8]) -> Result<Option<(StatusCode, usize, usize)>, Failure> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(input).map_err(|_| Failure::Connection)? {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => return Ok(None),
    };
    let status = response
        .code
        .and_then(|c| StatusCode::from_u16(c).ok())
        .ok_or(Failure::Connection)?;
    let body_len = response
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse::<usize>().ok())
        .filter(|&n| n <= MAX_BODY)
        .ok_or(Failure::Connection)?;
    Ok(Some((status, head_len, body_len)))
}

async fn fill(stream: &mut TcpStream, input: &mut BytesMut) -> Result<(), Failure> {
    input.reserve(8 * 1024);
    match stream.read_buf(input).await {
        Ok(0) | Err(_) => Err(Failure::Connection),
        Ok(_) => Ok(()),
    }
}

/// `Bearer {token}` as a header value.
pub fn bearer(token: &str) -> anyhow::Result<HeaderValue> {
    let mut v = HeaderValue::from_str(&format!("Bearer {token}"))?;
    v.set_sensitive(true);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_is_parsed_once_complete() {
        let reply = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(parse_head(&reply[..20]), Ok(None));
        let (status, head, body) = parse_head(reply).unwrap().unwrap();
        assert_eq!((status, head + body), (StatusCode::OK, reply.len()));
        assert_eq!(
            parse_head(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"),
            Err(Failure::Connection),
            "no Content-Length"
        );
    }
}
