use logwire::Logger;

#[logwire::service]
struct BuildService {
    logger: Logger,
}

#[logwire::service]
impl BuildService {
    fn fresh(&self) -> Logger {
        ::logwire::file_logger("build")
    }
}

fn main() {}
