use logwire::Logger;

#[logwire::service]
struct BuildService {
    logger: Logger,
}

#[logwire::service]
impl BuildService {
    fn reset(&mut self) {
        self.logger = logwire::file_logger("build");
    }

    fn debug_logger(&self) -> Logger {
        Logger::builder("debug").build()
    }
}

fn main() {}
