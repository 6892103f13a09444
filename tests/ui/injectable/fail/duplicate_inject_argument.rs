use logwire::Logger;

#[derive(logwire::Injectable)]
struct DeployService {
    logger: Logger,
    #[inject(default, default)]
    retries: u32,
}

fn main() {}
