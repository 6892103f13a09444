use logwire::Logger;

#[logwire::service]
#[derive(logwire::Injectable)]
struct BuildService {
    logger: Logger,
}

fn main() {}
