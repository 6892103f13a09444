use logwire::file_logger as fl;
use logwire::Logger;
use logwire::Logger as Log;

#[logwire::service]
struct BuildService {
    logger: Logger,
}

#[logwire::service]
impl BuildService {
    fn through_a_renamed_function(&self) -> Log {
        fl("build")
    }

    fn through_a_renamed_type(&self) -> usize {
        Log::capture("build").1.lines().len()
    }

    fn through_a_helper(&self) -> Log {
        helper()
    }

    fn cloning_is_fine(&self) -> Logger {
        Logger::clone(&self.logger)
    }
}

fn helper() -> Logger {
    Logger::builder("helper").build()
}

fn main() {}
