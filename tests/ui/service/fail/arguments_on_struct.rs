use logwire::Logger;

#[logwire::service(level = "info")]
struct BuildService {
    logger: Logger,
}

#[logwire::service(new = "no", retries = 3)]
struct DeployService {
    logger: Logger,
}

#[logwire::service(new = false, new = true)]
struct AuthService {
    logger: Logger,
}

fn main() {}
