use logwire::Logger;

#[derive(logwire::Injectable)]
struct DeployService {
    #[inject(default)]
    logger: Logger,
}

fn main() {}
