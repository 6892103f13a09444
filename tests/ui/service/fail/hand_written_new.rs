use logwire::Logger;

#[logwire::service]
struct BuildService {
    logger: Logger,
    retries: u32,
}

#[logwire::service]
impl BuildService {
    fn new(logger: Logger) -> Self {
        BuildService { logger, retries: 3 }
    }
}

fn main() {}
