//! Integration tests of the device SDK over real sockets.

#[path = "integration/app_auth.rs"]
mod app_auth;
#[path = "integration/app_channels.rs"]
mod app_channels;
#[path = "integration/app_resources.rs"]
mod app_resources;
#[path = "integration/app_support.rs"]
mod app_support;
#[path = "integration/app_tls.rs"]
mod app_tls;
#[path = "integration/cellular.rs"]
mod cellular;
#[path = "integration/network_send.rs"]
mod network_send;
#[path = "integration/offline.rs"]
mod offline;
#[path = "integration/peer.rs"]
mod peer;
#[path = "integration/raw_mode.rs"]
mod raw_mode;
#[path = "integration/receive.rs"]
mod receive;
#[path = "integration/server.rs"]
mod server;
#[path = "integration/things_activity.rs"]
mod things_activity;
#[path = "integration/things_auth.rs"]
mod things_auth;
#[path = "integration/things_email.rs"]
mod things_email;
#[path = "integration/things_misbehaving.rs"]
mod things_misbehaving;
#[path = "integration/things_resources.rs"]
mod things_resources;
#[path = "integration/things_support.rs"]
mod things_support;
#[cfg(target_os = "linux")]
#[path = "integration/wifi.rs"]
mod wifi;
