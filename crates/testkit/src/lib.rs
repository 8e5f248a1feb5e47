//! Throwaway servers for tests (PostgreSQL, NATS, SMTP): each on an
//! ephemeral port in a temporary directory, torn down on drop; and the test
//! double of a cellular modem on a pseudo-terminal ([`modem`]), and the
//! NetworkManager double on a private D-Bus bus ([`network_manager`]).

pub mod modem;
pub mod nats;
pub mod network_manager;
pub mod postgres;
mod process;
pub mod smtp;
