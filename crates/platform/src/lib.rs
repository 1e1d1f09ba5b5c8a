//! The plumbing every service shares: configuration, pools, events, telemetry and the HTTP kit.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod auth;
pub mod cli;
pub mod clients;
pub mod config;
pub mod db;
pub mod events;
pub mod http;
pub mod openapi;
pub mod redis;
pub mod service;
pub mod shutdown;
pub mod sql;
pub mod telemetry;
pub mod token;
