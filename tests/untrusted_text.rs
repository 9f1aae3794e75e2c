//! An appliance that sends markup and script in its job messages and locations: polled
//! through the real client, every page shows that text as text.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use scraper::{Html, Selector};
use tower::ServiceExt;

use common::{SimServer, fresh_store};
use vbdash::simulator::{HOSTILE_HOST, SimAppliance};
use vbdash::web::auth::Auth;
use vbdash::web::{self, AppState, WebSettings};

const NAME: &str = "vc-hostile";

async fn page(router: &axum::Router, uri: &str) -> String {
    let request = Request::get(uri).body(Body::empty()).unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{uri}");
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .unwrap();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// No markup from the appliance became an element, and it all reads as text.
fn assert_inert(html: &str, uri: &str) {
    assert!(!html.contains("<script>alert"), "raw script on {uri}");
    assert!(!html.contains("<img src=x"), "raw markup on {uri}");
    assert!(!html.contains("<b onmouseover"), "raw markup on {uri}");

    let doc = Html::parse_document(html);
    let scripts = Selector::parse("script").unwrap();
    assert!(
        doc.select(&scripts).all(|s| s.attr("src").is_some()),
        "{uri}"
    );
    let handlers = Selector::parse("[onerror], [onmouseover], img").unwrap();
    assert_eq!(doc.select(&handlers).count(), 0, "{uri}");
}

#[tokio::test]
async fn hostile_messages_and_locations_render_as_text() {
    let sim = SimServer::start(vec![SimAppliance::hostile_text(NAME, "8.0.3.00400")]).await;
    let (store, _dir) = fresh_store(&[NAME]).await;
    let client = sim.client(NAME, Duration::from_secs(10));
    vbdash::poller::poll_all_once(&store, &[client], 1).await;

    let router = web::router(AppState {
        store,
        settings: WebSettings::default(),
        auth: Auth::none(),
    });

    let fleet = page(&router, "/").await;
    assert_inert(&fleet, "/");

    let appliance_uri = format!("/appliances/{NAME}");
    let appliance = page(&router, &appliance_uri).await;
    assert_inert(&appliance, &appliance_uri);
    let text: String = Html::parse_document(&appliance)
        .root_element()
        .text()
        .collect();
    assert!(
        text.contains("<script>alert('location')</script>"),
        "location shown as text"
    );
    assert!(text.contains(HOSTILE_HOST), "failure message shown as text");

    let doc = Html::parse_document(&appliance);
    let links = Selector::parse("#jobs tbody a").unwrap();
    let jobs: Vec<String> = doc
        .select(&links)
        .filter_map(|a| a.attr("href"))
        .take(5)
        .map(str::to_owned)
        .collect();
    assert!(!jobs.is_empty());
    let mut saw_hostile_message = false;
    for uri in jobs {
        let html = page(&router, &uri).await;
        assert_inert(&html, &uri);
        let doc = Html::parse_document(&html);
        let text: String = doc.root_element().text().collect();
        assert!(text.contains("<script>alert('location')</script>"), "{uri}");
        saw_hostile_message |= text.contains(&format!("backup server {HOSTILE_HOST}"));
    }
    let rows = page(&router, &format!("{appliance_uri}/jobs?page=2")).await;
    assert_inert(&rows, "jobs page 2");
    assert!(saw_hostile_message || text.contains(HOSTILE_HOST));
}
