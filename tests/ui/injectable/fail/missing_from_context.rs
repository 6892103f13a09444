use logwire::{FromContext, Logger};

struct Db;

#[derive(logwire::Injectable)]
struct DeployService {
    logger: Logger,
    db: Db,
}

struct WorkerCtx {
    logger: Logger,
}

impl AsRef<Logger> for WorkerCtx {
    fn as_ref(&self) -> &Logger {
        &self.logger
    }
}

fn main() {
    let ctx = WorkerCtx { logger: Logger::capture("w").0 };
    let _ = DeployService::from_context(&ctx);
}
