//! Socket.IO packets (protocols 4 and 5) carried in Engine.IO messages,
//! for the default namespace `/` only.
//!
//! The text is the Engine.IO message's data: `0` is a socket.io CONNECT,
//! so on the wire, after the Engine.IO message type `4`, it reads `40`.

use serde_json::{Map, Value};

use super::Packet;

/// Why a socket.io packet was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SocketIoError {
    /// The packet addresses a namespace other than `/`.
    #[error("namespace {0:?} is not served; only \"/\" is")]
    Namespace(String),
    /// A binary event or ack (types 5 and 6), which Thingstead does not carry.
    #[error("binary socket.io packets are not supported")]
    Binary,
    /// The Engine.IO packet is not a message.
    #[error("not an Engine.IO message packet")]
    NotMessage,
    /// Not a socket.io packet we can read.
    #[error("invalid socket.io packet: {0}")]
    Invalid(&'static str),
}

/// One socket.io packet of the default namespace.
///
/// | packet | text (Engine.IO message data) | on the wire |
/// |---|---|---|
/// | `Connect(None)` | `0` | `40` |
/// | `Connect(Some({"sid":..}))` | `0{"sid":"..."}` | `40{"sid":"..."}` |
/// | `Disconnect` | `1` | `41` |
/// | `Event` | `2["name",args...]`, with an ack id `2<id>[...]` | `42["subscribe",[...]]` |
/// | `Ack` | `3<id>[args...]` | `431[...]` |
/// | `ConnectError` | `4{"message":"..."}` (a bare JSON string is read too) | `44{"message":"..."}` |
///
/// ```
/// use thingstead_proto::engineio::{Packet, SocketIoPacket};
/// let event = SocketIoPacket::event("subscribed", vec![serde_json::json!(["abc"])]);
/// assert_eq!(event.to_engineio(), Packet::Message(r#"2["subscribed",["abc"]]"#.into()));
/// assert_eq!(SocketIoPacket::parse(r#"2["subscribed",["abc"]]"#).unwrap(), event);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketIoPacket {
    /// CONNECT, with the optional JSON object (the client's auth, or the
    /// server's `{"sid": ..}` answer).
    Connect(Option<Map<String, Value>>),
    /// DISCONNECT.
    Disconnect,
    /// EVENT: a name, its arguments, and an ack id if the sender wants one.
    Event {
        /// The event name, e.g. `subscribe`.
        name: String,
        /// The arguments after the name.
        args: Vec<Value>,
        /// The ack id the sender asked to be answered with.
        ack: Option<u64>,
    },
    /// ACK: the answer to an event sent with an ack id.
    Ack {
        /// The id of the event answered.
        id: u64,
        /// The answer's arguments.
        args: Vec<Value>,
    },
    /// CONNECT_ERROR with its message.
    ConnectError {
        /// Why the connection was refused.
        message: String,
    },
}

impl SocketIoPacket {
    /// The server's CONNECT answer `0{"sid":..}` (protocol 5).
    pub fn connected(sid: &str) -> Self {
        let mut map = Map::new();
        map.insert("sid".into(), Value::String(sid.into()));
        Self::Connect(Some(map))
    }

    /// A CONNECT_ERROR `4{"message":..}`.
    pub fn connect_error(message: impl Into<String>) -> Self {
        Self::ConnectError {
            message: message.into(),
        }
    }

    /// An EVENT without ack id.
    pub fn event(name: impl Into<String>, args: Vec<Value>) -> Self {
        Self::Event {
            name: name.into(),
            args,
            ack: None,
        }
    }

    /// Parses the data of an Engine.IO message.
    pub fn parse(text: &str) -> Result<Self, SocketIoError> {
        let mut chars = text.chars();
        let kind = chars.next().ok_or(SocketIoError::Invalid("empty packet"))?;
        let rest = strip_namespace(chars.as_str())?;
        match kind {
            '0' => match rest {
                "" => Ok(Self::Connect(None)),
                json => match parse_json(json)? {
                    Value::Object(map) => Ok(Self::Connect(Some(map))),
                    _ => Err(SocketIoError::Invalid("CONNECT data must be a JSON object")),
                },
            },
            '1' => Ok(Self::Disconnect),
            '2' => {
                let (ack, json) = split_id(rest)?;
                let mut items = parse_array(json)?.into_iter();
                let Some(Value::String(name)) = items.next() else {
                    return Err(SocketIoError::Invalid("EVENT must start with the event name"));
                };
                Ok(Self::Event {
                    name,
                    args: items.collect(),
                    ack,
                })
            }
            '3' => {
                let (id, json) = split_id(rest)?;
                let id = id.ok_or(SocketIoError::Invalid("ACK needs an id"))?;
                Ok(Self::Ack {
                    id,
                    args: parse_array(json)?,
                })
            }
            '4' => match parse_json(rest)? {
                Value::String(message) => Ok(Self::ConnectError { message }),
                Value::Object(map) => match map.get("message") {
                    Some(Value::String(message)) => Ok(Self::ConnectError {
                        message: message.clone(),
                    }),
                    _ => Err(SocketIoError::Invalid("CONNECT_ERROR needs a \"message\" string")),
                },
                _ => Err(SocketIoError::Invalid(
                    "CONNECT_ERROR data must be an object or a string",
                )),
            },
            '5' | '6' => Err(SocketIoError::Binary),
            _ => Err(SocketIoError::Invalid("unknown packet type")),
        }
    }

    /// Parses the socket.io packet inside an Engine.IO message.
    pub fn from_engineio(packet: &Packet) -> Result<Self, SocketIoError> {
        match packet {
            Packet::Message(data) => Self::parse(data),
            _ => Err(SocketIoError::NotMessage),
        }
    }

    /// Writes the packet's text (the Engine.IO message data).
    pub fn encode(&self) -> String {
        match self {
            Self::Connect(None) => "0".into(),
            Self::Connect(Some(map)) => format!("0{}", Value::Object(map.clone())),
            Self::Disconnect => "1".into(),
            Self::Event { name, args, ack } => {
                let mut items = Vec::with_capacity(args.len() + 1);
                items.push(Value::String(name.clone()));
                items.extend(args.iter().cloned());
                let id = ack.map(|id| id.to_string()).unwrap_or_default();
                format!("2{id}{}", Value::Array(items))
            }
            Self::Ack { id, args } => format!("3{id}{}", Value::Array(args.clone())),
            Self::ConnectError { message } => {
                let mut map = Map::new();
                map.insert("message".into(), Value::String(message.clone()));
                format!("4{}", Value::Object(map))
            }
        }
    }

    /// The Engine.IO message carrying this packet.
    pub fn to_engineio(&self) -> Packet {
        Packet::Message(self.encode())
    }
}

/// Strips a namespace prefix `/nsp,`, accepting only `/`.
fn strip_namespace(rest: &str) -> Result<&str, SocketIoError> {
    if !rest.starts_with('/') {
        return Ok(rest);
    }
    let (nsp, after) = rest.split_once(',').unwrap_or((rest, ""));
    if nsp == "/" {
        Ok(after)
    } else {
        Err(SocketIoError::Namespace(nsp.chars().take(64).collect()))
    }
}

/// Splits a leading decimal ack id off the JSON.
fn split_id(rest: &str) -> Result<(Option<u64>, &str), SocketIoError> {
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Ok((None, rest));
    }
    let id = rest[..digits]
        .parse()
        .map_err(|_| SocketIoError::Invalid("ack id out of range"))?;
    Ok((Some(id), &rest[digits..]))
}

fn parse_json(json: &str) -> Result<Value, SocketIoError> {
    serde_json::from_str(json).map_err(|_| SocketIoError::Invalid("data is not JSON"))
}

fn parse_array(json: &str) -> Result<Vec<Value>, SocketIoError> {
    match parse_json(json)? {
        Value::Array(items) => Ok(items),
        _ => Err(SocketIoError::Invalid("data must be a JSON array")),
    }
}
