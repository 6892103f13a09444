use logwire::Logger;

struct BuildService {
    logger: Logger,
    db: String,
}

#[logwire::service]
impl BuildService {
    fn new(db: String, logger: Logger) -> Self {
        BuildService { logger, db }
    }
}

fn main() {}
