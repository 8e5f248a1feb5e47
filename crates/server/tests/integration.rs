//! Integration tests of the server: real listeners on port 0, real sockets,
//! the shared `TestServer` harness.

mod integration {
    mod app_auth;
    mod app_broadcasts;
    mod app_content;
    mod app_data;
    mod app_feeds;
    mod app_layout;
    mod app_resources;
    mod app_tenancy;
    mod bus;
    pub mod common;
    mod device_protocol;
    mod error_shapes;
    mod hostile_device;
    mod hostile_http;
    mod hostile_push;
    mod http_api;
    mod messages_api;
    #[cfg(feature = "postgres")]
    mod postgres;
    mod proxy_protocol;
    mod push;
    mod realtime_clients;
    mod realtime_eio3;
    mod realtime_eio4;
    mod realtime_eio4_lifecycle;
    mod retention;
    mod sms_outbox;
    mod sms_providers;
    mod space_retention;
    mod stream;
    mod thing_activity_realtime;
    mod things_activity;
    mod things_api;
    mod things_oauth2;
}
