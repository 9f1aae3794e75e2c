//! Shared set-up for integration tests: a simulator on 127.0.0.1, a fresh SQLite file,
//! and real clients pointed at the simulator.

#![allow(dead_code)]

pub mod demo_app;

use std::sync::Arc;
use std::time::Duration;

use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use url::Url;
use vbdash::secret::Secret;
use vbdash::simulator::{SimAppliance, SimConfig, Simulator};
use vbdash::store::{ApplianceSettings, Store};
use vbdash::vcenter::{ApplianceClient, Target, TlsMode};

pub const USER: &str = "backup-reader@vsphere.local";
pub const PASSWORD: &str = "Test-Passw0rd!";

/// A simulator serving on a loopback port until dropped.
pub struct SimServer {
    pub simulator: Simulator,
    pub base: String,
    task: JoinHandle<std::io::Result<()>>,
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SimServer {
    pub async fn start(appliances: Vec<SimAppliance>) -> SimServer {
        let appliances = appliances
            .into_iter()
            .map(|a| a.credentials(USER, PASSWORD))
            .collect();
        let simulator = Simulator::new(SimConfig {
            appliances,
            ..SimConfig::default()
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(simulator.clone().serve(listener));
        SimServer {
            simulator,
            base,
            task,
        }
    }

    /// A real client for one simulated appliance.
    pub fn client(&self, name: &str, timeout: Duration) -> Arc<ApplianceClient> {
        client_for(name, &format!("{}/{name}", self.base), timeout)
    }
}

pub fn client_for(name: &str, url: &str, timeout: Duration) -> Arc<ApplianceClient> {
    let target = Target {
        name: name.to_owned(),
        base_url: Url::parse(url).unwrap(),
        username: USER.to_owned(),
        password: Secret::new(PASSWORD),
        tls: TlsMode::Verify,
        timeout,
    };
    Arc::new(ApplianceClient::new(target).unwrap())
}

/// A store on a fresh SQLite file that lives as long as the returned folder.
pub async fn fresh_store(names: &[&str]) -> (Store, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vbdash.db");
    let store = Store::open(path.to_str().unwrap()).await.unwrap();
    let settings: Vec<ApplianceSettings> = names
        .iter()
        .map(|name| ApplianceSettings {
            name: (*name).to_owned(),
            url: format!("http://127.0.0.1/{name}"),
            tags: vec!["test".to_owned()],
            time_zone: chrono_tz::UTC,
            grace_secs: 7200,
        })
        .collect();
    store.sync_appliances(&settings).await.unwrap();
    (store, dir)
}
