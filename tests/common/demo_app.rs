//! The demo fleet behind the real server, dashboard users for it, and the text log caught
//! in memory so that a test can read what was logged.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::Utc;
use tokio::net::TcpListener;
use vbdash::app::{self, FirstPoll, RunningApp};
use vbdash::config::{AuthConfig, AuthMode, Config};
use vbdash::demo::{self, DemoFleet, DemoTuning};
use vbdash::secret::Secret;
use vbdash::store::Role;
use vbdash::web::auth::password;

/// Prepares the demo fleet on the SQLite file `database`, lets `configure` change its
/// configuration, and serves it on a free loopback port once it has been polled.
pub async fn serve_demo(
    database: PathBuf,
    tuning: &DemoTuning,
    configure: impl FnOnce(&mut Config),
) -> (DemoFleet, RunningApp) {
    let mut fleet = demo::prepare(database, "127.0.0.1:0".parse().unwrap(), tuning)
        .await
        .unwrap();
    configure(&mut fleet.config);

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = app::start(&fleet.config, listener, FirstPoll::BeforeServing)
        .await
        .unwrap();
    (fleet, app)
}

/// Turns on sign-in with local users.
pub fn local_sign_in(config: &mut Config) {
    config.auth = AuthConfig {
        mode: AuthMode::Local,
        ..AuthConfig::default()
    };
}

/// Adds the local user `name` with `role` and `password`; false if the name is taken.
pub async fn add_user(app: &RunningApp, name: &str, role: Role, password: &str) -> bool {
    let hash = password::hash(&Secret::new(password)).unwrap();
    app.store
        .add_user(name, role, &hash, Utc::now())
        .await
        .unwrap()
}

/// Every line of the text log, kept in memory.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    /// Sends the text log of the whole test binary, at `filter`, here.
    pub fn install(filter: &str) -> CapturedLogs {
        let logs = CapturedLogs::default();
        let writer = logs.clone();
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        logs
    }

    /// What has been logged so far.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
