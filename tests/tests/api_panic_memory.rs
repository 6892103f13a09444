//! 10,000 panicking requests leave the process up and its memory flat.
//! Alone in its binary so that no other test moves the resident size.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use logwire::axum::ApiLayer;
use logwire::{Level, Logger};
use tower::ServiceExt;

fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

async fn boom() -> &'static str {
    panic!("boom")
}

#[tokio::test]
async fn ten_thousand_panics_keep_memory_flat() {
    let dir = tempfile::tempdir().unwrap();
    // A real file logger at ERROR: the panic lines are written, as in production.
    let log = Logger::builder("api")
        .root(dir.path())
        .level(Level::ERROR)
        .max_bytes(0)
        .build();
    let app = Router::new()
        .route("/boom", get(boom))
        .layer(ApiLayer::new(log.clone()));
    let hit = |app: Router| async move {
        let response = app
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    };
    for _ in 0..1_000 {
        hit(app.clone()).await;
    }
    log.flush();
    let before = resident_kib();
    for _ in 0..10_000 {
        hit(app.clone()).await;
    }
    log.flush();
    let after = resident_kib();
    assert!(
        after * 100 <= before * 105,
        "resident memory grew from {before} KiB to {after} KiB"
    );
    let text = std::fs::read_to_string(dir.path().join("api.log")).unwrap();
    assert_eq!(text.lines().filter(|l| l.contains("REQUEST_PANIC")).count(), 11_000);
}
