use logwire::Logger;

#[logwire::service]
struct BuildService {
    logger: Logger,
}

#[logwire::service]
impl BuildService {
    fn loggers(&self) -> Vec<Logger> {
        vec![logwire::file_logger("a"), self.logger.clone()]
    }
}

fn main() {}
