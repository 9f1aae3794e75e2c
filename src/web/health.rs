//! Health checks for service managers and load balancers, public and never cached.
//!
//! `/healthz` says the process answers HTTP. `/readyz` also asks the database a trivial
//! question and reads the poller's heartbeat; anything wrong gives a 503 with one line per
//! problem, in words.

use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::AppState;
use crate::poller::Heartbeat;

/// Longest the readiness check waits for the database.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /healthz`: the server answers.
pub async fn healthz() -> Response {
    plain(StatusCode::OK, "ok".to_owned())
}

/// `GET /readyz`: 200 when the database answers and the poller is alive, else 503 with
/// the reasons. A router built without a poller's heartbeat (as in some tests) is never
/// ready, which is the truth: nothing polls.
pub async fn readyz(
    State(state): State<AppState>,
    heartbeat: Option<Extension<Heartbeat>>,
) -> Response {
    let mut problems = Vec::new();

    match tokio::time::timeout(PING_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the database does not answer");
            problems.push("the database does not answer".to_owned());
        }
        Err(_) => {
            tracing::warn!(
                timeout_ms = PING_TIMEOUT.as_millis(),
                "readiness: the database is too slow"
            );
            problems.push(format!(
                "the database gave no answer within {}s",
                PING_TIMEOUT.as_secs()
            ));
        }
    }

    match heartbeat {
        Some(Extension(heartbeat)) => problems.extend(heartbeat.liveness(Utc::now()).problem()),
        None => problems.push("no poller runs in this process".to_owned()),
    }

    if problems.is_empty() {
        return plain(StatusCode::OK, "ready".to_owned());
    }
    let mut body = String::from("not ready\n");
    for problem in problems {
        body.push_str(&problem);
        body.push('\n');
    }
    plain(StatusCode::SERVICE_UNAVAILABLE, body)
}

/// A plain-text answer that no cache keeps.
fn plain(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}
