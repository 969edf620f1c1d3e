//! The fake's tests, one binary (one module per area): the model and routes through
//! `Fake::handle`, the admin API, the seeded faults, and the transports over loopback.

mod admin;
mod adobe;
mod didomi;
mod exposure;
mod faults;
mod http;
mod robustness;
mod support;
