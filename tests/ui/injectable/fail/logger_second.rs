use logwire::Logger;

#[derive(logwire::Injectable)]
struct DeployService {
    retries: u32,
    logger: Logger,
}

fn main() {}
