#[logwire::service]
struct BuildService {
    logger: Logger,
}

fn main() {}
