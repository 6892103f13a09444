use logwire::Logger;

#[derive(Clone, Default)]
pub struct Db;

#[derive(logwire::Injectable)]
pub struct ConfigSyncService {
    logger: Logger,
    #[inject(default)]
    db: Option<Db>,
}

fn main() {
    let (logger, _) = Logger::capture("x");
    let svc = ConfigSyncService::new(logger, None);
    assert!(svc.db.is_none());
    let _ = &svc.logger;
}
