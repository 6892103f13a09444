// A service method may get a logger legitimately: from a context, or a
// clone of its own. Only building a new one is refused.
use logwire::{FromContext, Logger};

#[logwire::service]
struct Reporter {
    logger: Logger,
}

#[logwire::service]
impl Reporter {
    fn worker_logger(&self, ctx: &Logger) -> Logger {
        Logger::from_context(ctx)
    }

    fn own(&self) -> Vec<Logger> {
        vec![self.logger.clone(), Logger::clone(&self.logger)]
    }
}

fn main() {
    let (logger, _) = Logger::capture("worker");
    let r = Reporter::new(logger.clone());
    assert_eq!(r.worker_logger(&logger).name(), "worker");
    assert_eq!(r.own().len(), 2);
}
