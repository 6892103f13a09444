// #[derive(logwire::Context)]: the logger and each field provided to
// services built with from_context; a skipped field stays in the context;
// generic and borrowed contexts too.
use logwire::{FromContext, Logger};

#[derive(Clone, Debug, PartialEq)]
pub struct Db(&'static str);

#[derive(Clone)]
pub struct Config {
    pub retries: u32,
}

#[derive(logwire::Context)]
pub struct WorkerCtx {
    logger: Logger,
    db: Db,
    config: Config,
    #[context(skip)]
    name: String,
}

#[derive(logwire::Context)]
pub struct Borrowed<'c, T: Clone> {
    logger: Logger,
    db: &'c Db,
    extra: Vec<T>,
}

#[logwire::service]
pub struct BuildService {
    logger: Logger,
    db: Db,
    config: Config,
}

fn main() {
    let (logger, captured) = Logger::capture("worker");
    let ctx = WorkerCtx { logger, db: Db("sqlite"), config: Config { retries: 3 }, name: "w1".into() };
    let builds = BuildService::from_context(&ctx);
    assert_eq!(builds.db, Db("sqlite"));
    assert_eq!(builds.config.retries, 3);
    assert_eq!(Logger::from_context(&ctx).name(), "worker");
    assert_eq!(ctx.name, "w1");
    let db = Db("pg");
    let borrowed = Borrowed { logger: ctx.logger.clone(), db: &db, extra: vec![1u8] };
    assert_eq!(<&Db>::from_context(&borrowed), &db);
    assert_eq!(Vec::<u8>::from_context(&borrowed), [1]);
    assert!(captured.lines().is_empty());
}
