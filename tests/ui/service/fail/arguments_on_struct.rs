use logwire::Logger;

#[logwire::service(level = "info")]
struct BuildService {
    logger: Logger,
}

#[logwire::service(new = "no", retries = 3)]
struct DeployService {
    logger: Logger,
}

fn main() {}
