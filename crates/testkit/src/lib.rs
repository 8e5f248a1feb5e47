//! Throwaway servers for tests: each on an ephemeral port in a temporary directory, torn down on drop.
pub mod postgres;
