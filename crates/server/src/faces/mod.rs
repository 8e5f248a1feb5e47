//! Faces: each translates one wire API into platform calls and back.

pub mod app;
pub mod device;
pub mod things;
