use logwire::Logger;

#[derive(logwire::Injectable)]
struct DeployService {
    logger: Logger,
    #[inject(default, from_ref)]
    retries: u32,
}

fn main() {}
