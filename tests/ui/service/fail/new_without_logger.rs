use logwire::Logger;

struct BuildService {
    logger: Logger,
}

#[logwire::service]
impl BuildService {
    fn new() -> Self {
        BuildService { logger: Logger::capture("x").0 }
    }
}

fn main() {}
