//! Services as axum extractors: the logger from the request, other fields
//! by extractor, `FromRef` or `Default`; a clear 500 without the layer.

use axum::body::Body;
use axum::extract::FromRef;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::{Extension, Router};
use logwire::Logger;
use tower::ServiceExt;

#[derive(Clone)]
struct AppConfig {
    name: &'static str,
}

#[derive(Clone)]
struct AppState {
    config: AppConfig,
}

impl FromRef<AppState> for AppConfig {
    fn from_ref(state: &AppState) -> Self {
        state.config.clone()
    }
}

#[logwire::service]
struct BuildService {
    logger: Logger,
    #[inject(from_ref)]
    config: AppConfig,
    #[inject(default)]
    page: u32,
}

#[logwire::service]
impl BuildService {
    async fn describe(&self, id: u64) -> String {
        format!("{} build {id} page {}", self.config.name, self.page)
    }
}

async fn handler(builds: BuildService) -> String {
    builds.describe(7).await
}

fn app() -> Router<()> {
    Router::new().route("/builds", get(handler)).with_state(AppState {
        config: AppConfig { name: "ci" },
    })
}

async fn body_text(response: axum::response::Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn a_service_is_extracted_with_the_request_logger() {
    let (logger, captured) = Logger::capture("api");
    let app = app().layer(Extension(logger));
    let response = app
        .oneshot(Request::get("/builds").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_text(response).await, "ci build 7 page 0");
    let records = captured.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].message, "METHOD_END");
    assert_eq!(records[0].field("method").unwrap(), "BuildService::describe");
    assert_eq!(records[0].field("id").unwrap(), "7");
}

#[tokio::test]
async fn without_the_layer_the_answer_is_a_500_naming_it() {
    let response = app()
        .oneshot(Request::get("/builds").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body_text(response).await, logwire::axum::MissingApiLayer::MESSAGE);
    assert!(logwire::axum::MissingApiLayer::MESSAGE.contains("ApiLayer"));
}
