use std::sync::Arc;

type Logger = Arc<String>;

#[logwire::service]
struct BuildService {
    logger: Logger,
}

fn main() {}
