//! Handlers only extract and call services: no logging, no error handling
//! beyond `?`.

use axum::body::Body;
use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio_util::io::ReaderStream;

use super::dependencies::CurrentUser;
use crate::services::{AppError, AuthService, Build, BuildService, Deployment, DeploymentService, OpsService};

pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `POST /api/login`. Never logged whole: the service records neither the
/// request nor the password.
#[derive(Deserialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize)]
pub struct LoginResponse {
    pub session_id: String,
}

pub async fn login(auth: AuthService, Json(req): Json<LoginRequest>) -> Result<Json<LoginResponse>, AppError> {
    let session_id = auth.login(&req.username, &req.password).await?;
    Ok(Json(LoginResponse { session_id }))
}

#[derive(Deserialize)]
pub struct CreateBuild {
    pub project: String,
}

pub async fn create_build(
    CurrentUser(user): CurrentUser,
    builds: BuildService,
    Json(req): Json<CreateBuild>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let build = builds.queue(&req.project, &user).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": build.id, "status": build.status })),
    ))
}

pub async fn list_builds(_user: CurrentUser, builds: BuildService) -> Result<Json<Vec<Build>>, AppError> {
    Ok(Json(builds.list().await?))
}

pub async fn get_build(_user: CurrentUser, builds: BuildService, Path(id): Path<i64>) -> Result<Json<Build>, AppError> {
    Ok(Json(builds.get(id).await?))
}

/// The build's job log as text, streamed: a log of any size costs the API
/// a small buffer, not the file's size.
pub async fn build_log(_user: CurrentUser, builds: BuildService, Path(id): Path<i64>) -> Result<Response, AppError> {
    let body = match builds.log_file(id).await? {
        Some(file) => Body::from_stream(ReaderStream::new(file)),
        None => Body::empty(),
    };
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response())
}

#[derive(Deserialize)]
pub struct CreateDeployment {
    pub build_id: i64,
}

pub async fn create_deployment(
    CurrentUser(user): CurrentUser,
    deployments: DeploymentService,
    Json(req): Json<CreateDeployment>,
) -> Result<(StatusCode, Json<Deployment>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(deployments.create(req.build_id, &user).await?),
    ))
}

pub async fn get_deployment(
    _user: CurrentUser,
    deployments: DeploymentService,
    Path(id): Path<i64>,
) -> Result<Json<Deployment>, AppError> {
    Ok(Json(deployments.get(id).await?))
}

/// `PUT /api/admin/log-level`: `{"logger":"worker","level":"debug","minutes":10}`.
#[derive(Deserialize)]
pub struct SetLogLevel {
    pub logger: String,
    pub level: String,
    pub minutes: u64,
}

pub async fn set_log_level(
    CurrentUser(user): CurrentUser,
    ops: OpsService,
    Json(req): Json<SetLogLevel>,
) -> Result<Json<Value>, AppError> {
    let until = ops.set_log_level(&user, &req.logger, &req.level, req.minutes)?;
    Ok(Json(
        json!({ "logger": req.logger, "level": req.level, "until": until }),
    ))
}
