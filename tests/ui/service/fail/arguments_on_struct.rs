use logwire::Logger;

#[logwire::service(level = "info")]
struct BuildService {
    logger: Logger,
}

fn main() {}
