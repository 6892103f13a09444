//! The HTTP API process: `api.log`, one ApiLayer, handlers that call
//! services.

mod dependencies;
mod error;
mod handlers;

use axum::routing::{get, post, put};
use axum::Router;
use logwire::axum::ApiLayer;
use logwire::Logger;

pub use dependencies::AppState;

use crate::config::AppConfig;
use crate::db::Db;
use crate::services::{AuthService, Hashing};
use crate::shutdown::Shutdown;
use crate::Failure;

/// The API's routes behind the ApiLayer.
pub fn router(logger: Logger, state: AppState) -> Router {
    Router::new()
        .route("/api/health", get(handlers::health))
        .route("/api/login", post(handlers::login))
        .route("/api/builds", post(handlers::create_build).get(handlers::list_builds))
        .route("/api/builds/{id}", get(handlers::get_build))
        .route("/api/builds/{id}/log", get(handlers::build_log))
        .route("/api/deployments", post(handlers::create_deployment))
        .route("/api/deployments/{id}", get(handlers::get_deployment))
        .route("/api/admin/log-level", put(handlers::set_log_level))
        // The API listens on 127.0.0.1 behind the proxy: a caller's W3C
        // traceparent joins its trace.
        .layer(ApiLayer::new(logger).accept_trace_context(true))
        .with_state(state)
}

/// Runs the API until SIGTERM or Ctrl-C, logging to `logger`.
pub async fn run(logger: Logger, config: AppConfig, db: Db) -> Result<(), Failure> {
    let mut shutdown = Shutdown::watch().map_err(Failure::Signals)?;
    let admin_password = std::env::var("PIPELINE_ADMIN_PASSWORD").unwrap_or_else(|_| "admin".to_owned());
    let hashing = Hashing::per_core();
    let auth = AuthService::new(logger.clone(), db.clone(), config.clone(), hashing.clone());
    logwire::txid::scope("startup", auth.ensure_admin(&admin_password))
        .await
        .map_err(Failure::AdminUser)?;
    crate::setup::demo_project(&config.projects()).map_err(Failure::DemoProject)?;

    let address = format!("127.0.0.1:{}", config.port);
    let listener = match tokio::net::TcpListener::bind(&address).await {
        Ok(listener) => listener,
        Err(source) => return Err(Failure::Listen { address, source }),
    };
    logwire::info!(
        logger,
        "SERVER_START",
        address = address.as_str(),
        pid = std::process::id()
    );
    let app = router(logger.clone(), AppState { db, config, hashing });
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.recv().await;
        })
        .await;
    logwire::info!(logger, "SERVER_STOP");
    logger.flush();
    served.map_err(Failure::Serve)
}
