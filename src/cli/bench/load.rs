//! Requests from a few concurrent clients: latency percentiles and the rate they achieve,
//! and a bare server of fixed bytes to compare that rate with.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::body::Bytes;

/// Latencies of one measured path.
#[derive(Debug, Clone, Default)]
pub struct Latencies {
    /// Every request's time, sorted, in milliseconds.
    pub millis: Vec<f64>,
    /// Wall time of the whole measurement.
    pub wall: Duration,
    /// Size of one answer body.
    pub body_bytes: usize,
}

impl Latencies {
    /// The `p`-th percentile (0-100), by nearest rank; 0 when nothing was measured.
    pub fn percentile(&self, p: f64) -> f64 {
        if self.millis.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * self.millis.len() as f64).ceil() as usize;
        self.millis[rank.clamp(1, self.millis.len()) - 1]
    }

    /// Requests answered per second over the whole measurement.
    pub fn rate(&self) -> f64 {
        let secs = self.wall.as_secs_f64();
        if secs == 0.0 {
            0.0
        } else {
            self.millis.len() as f64 / secs
        }
    }
}

/// `clients` tasks each send `per_client` GETs of `url` one after the other, after a few
/// unmeasured ones to warm connections and caches.
pub async fn measure(
    http: &reqwest::Client,
    url: &str,
    clients: usize,
    per_client: usize,
) -> anyhow::Result<Latencies> {
    for _ in 0..clients.max(2) {
        fetch(http, url).await?;
    }

    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let http = http.clone();
        let url = url.to_owned();
        tasks.spawn(async move {
            let mut times = Vec::with_capacity(per_client);
            let mut body_bytes = 0;
            for _ in 0..per_client {
                let clock = Instant::now();
                body_bytes = fetch(&http, &url).await?;
                times.push(clock.elapsed().as_secs_f64() * 1_000.0);
            }
            anyhow::Ok((times, body_bytes))
        });
    }

    let mut all = Latencies::default();
    while let Some(joined) = tasks.join_next().await {
        let (times, body_bytes) = joined.context("a load task failed")??;
        all.millis.extend(times);
        all.body_bytes = body_bytes;
    }
    all.wall = started.elapsed();
    all.millis.sort_by(f64::total_cmp);
    Ok(all)
}

/// One GET read to the end; returns the body's length. Anything but 200 is an error.
pub async fn fetch(http: &reqwest::Client, url: &str) -> anyhow::Result<usize> {
    let answer = http.get(url).send().await?;
    let status = answer.status();
    let body = answer.bytes().await?;
    if !status.is_success() {
        bail!("{url} answered {status}");
    }
    Ok(body.len())
}

/// A server of one fixed body on its own runtime thread: the most an HTTP server on this
/// machine can do for a response of that size.
pub struct StaticServer {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StaticServer {
    /// Serves `size` bytes of HTML at `/`.
    pub fn start(size: usize) -> anyhow::Result<StaticServer> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let body = Bytes::from(vec![b'x'; size]);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let body = Arc::new(body);
                let app = axum::Router::new().route(
                    "/",
                    axum::routing::get(move || {
                        let body = Arc::clone(&body);
                        async move {
                            (
                                [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
                                Bytes::clone(&body),
                            )
                        }
                    }),
                );
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        Ok(StaticServer {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let latencies = Latencies {
            millis: (1..=100).map(f64::from).collect(),
            wall: Duration::from_secs(2),
            body_bytes: 0,
        };
        assert_eq!(latencies.percentile(50.0), 50.0);
        assert_eq!(latencies.percentile(99.0), 99.0);
        assert_eq!(latencies.percentile(100.0), 100.0);
        assert_eq!(latencies.rate(), 50.0);
    }
}
