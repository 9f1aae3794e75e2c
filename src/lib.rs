//! vbdash: one dashboard for the file-based backups of many vCenter Server Appliances.

pub mod config;
pub mod domain;
pub mod poller;
pub mod secret;
pub mod simulator;
pub mod store;
pub mod vcenter;
pub mod views;
pub mod web;
