//! Throwaway servers for tests (PostgreSQL, NATS, SMTP): each on an ephemeral port
//! in a temporary directory, torn down on drop.

pub mod nats;
pub mod postgres;
pub mod smtp;
