//! The business logic. Every service takes `logger: Logger` first and never
//! builds a logger; the API's extractors and the worker's context build
//! them (`#[logwire::service]` generates both).

mod auth_service;
mod build_service;
mod deployment_service;
mod error;
mod ops_service;

pub use auth_service::{AuthService, Hashing, User};
pub use build_service::{Build, BuildService};
pub use deployment_service::{Deployment, DeploymentService};
pub use error::AppError;
pub use ops_service::OpsService;
