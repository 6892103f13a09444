use logwire::Logger;

#[logwire::service]
struct BuildService {
    #[inject(from_rf)]
    db: String,
    logger: Logger,
}

fn main() {}
