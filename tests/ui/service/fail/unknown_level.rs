use logwire::Logger;

#[logwire::service]
struct BuildService {
    logger: Logger,
}

#[logwire::service(level = "verbose")]
impl BuildService {
    fn check(&self) -> bool {
        true
    }
}

fn main() {}
