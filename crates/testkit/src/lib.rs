//! Test helpers that start real backing services for Thingstead's tests.

pub mod nats;
