use logwire::Logger;

#[logwire::service]
struct BuildService {
    logger: Logger,
}

#[logwire::service]
impl BuildService {
    #[log(level = "info", level = "warn")]
    fn check(&self, n: u32) -> bool {
        n > 1
    }
}

fn main() {}
