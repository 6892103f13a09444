use logwire::Logger;

struct Helper {
    logger: Logger,
}

#[logwire::service]
impl Helper {
    fn new(logger: &Logger) -> Self {
        Helper { logger: logger.clone() }
    }
}

fn main() {}
