use logwire::Logger;

#[logwire::service]
struct BuildService {
    db: String,
    logger: Logger,
}

fn main() {}
