//! Integration tests of the `thingstead` binary: the real server and admin
//! CLI as processes, on ephemeral ports with temporary data dirs.

#[path = "integration/admin.rs"]
mod admin;
#[path = "integration/admin_space.rs"]
mod admin_space;
#[path = "integration/app.rs"]
mod app;
#[cfg(feature = "postgres")]
#[path = "integration/cluster.rs"]
mod cluster;
#[path = "integration/data_dir.rs"]
mod data_dir;
#[cfg(feature = "postgres")]
#[path = "integration/deploy.rs"]
mod deploy;
#[path = "integration/device_tools.rs"]
mod device_tools;
#[path = "integration/durability.rs"]
mod durability;
#[path = "integration/messages.rs"]
mod messages;
#[cfg(feature = "postgres")]
#[path = "integration/migrate.rs"]
mod migrate;
#[cfg(feature = "postgres")]
#[path = "integration/multinode.rs"]
mod multinode;
#[cfg(feature = "postgres")]
#[path = "integration/multinode_realtime.rs"]
mod multinode_realtime;
#[cfg(target_os = "linux")]
#[path = "integration/network_wifi.rs"]
mod network_wifi;
#[path = "integration/postgres.rs"]
mod postgres;
#[path = "integration/server.rs"]
mod server;
#[path = "integration/settings.rs"]
mod settings;
#[path = "integration/support.rs"]
mod support;
#[path = "integration/things.rs"]
mod things;
#[path = "integration/things_activity.rs"]
mod things_activity;
#[path = "integration/things_import.rs"]
mod things_import;
