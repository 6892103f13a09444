//! What a worker's jobs are built from.

use logwire::Logger;

use crate::config::AppConfig;
use crate::db::Db;

/// What the worker's services are built from: the logger, the database
/// and the configuration, each provided to `from_context`.
#[derive(logwire::Context)]
pub struct WorkerCtx {
    pub logger: Logger,
    pub db: Db,
    pub config: AppConfig,
    /// This worker, as recorded with the jobs it claims.
    #[context(skip)]
    pub me: String,
}
