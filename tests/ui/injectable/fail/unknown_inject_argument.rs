use logwire::Logger;

#[derive(logwire::Injectable)]
struct DeployService {
    logger: Logger,
    #[inject(from_state)]
    db: String,
}

fn main() {}
