//! vbdash: one dashboard for the file-based backups of many vCenter Server Appliances.

pub mod app;
pub mod config;
pub mod demo;
pub mod domain;
pub mod housekeeping;
pub mod poller;
pub mod secret;
pub mod simulator;
pub mod store;
pub mod telemetry;
pub mod vcenter;
pub mod views;
pub mod web;
