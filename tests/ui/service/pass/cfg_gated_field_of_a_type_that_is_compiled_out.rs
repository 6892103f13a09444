// A field behind `#[cfg]` whose type exists only under that cfg: `new`,
// `from_context` and the extractor are generated for either case.
use logwire::{FromContext, Logger};

#[cfg(any())]
struct Metrics;

#[derive(Clone)]
struct Db;

struct Ctx {
    logger: Logger,
}

impl AsRef<Logger> for Ctx {
    fn as_ref(&self) -> &Logger {
        &self.logger
    }
}

impl FromContext<Ctx> for Db {
    fn from_context(_: &Ctx) -> Self {
        Db
    }
}

#[logwire::service]
struct Builds {
    logger: Logger,
    db: Db,
    #[cfg(any())]
    metrics: Metrics,
}

fn main() {
    let (logger, _) = Logger::capture("worker");
    let ctx = Ctx { logger };
    let builds = Builds::from_context(&ctx);
    let _ = (builds.db, Builds::new(ctx.logger.clone(), Db).logger);
}
