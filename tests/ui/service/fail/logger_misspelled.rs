use logwire::Logger;

#[logwire::service]
struct BuildService {
    log: Logger,
    retries: u32,
}

fn main() {}
