use logwire::{FromContext, Logger};

/// A service that builds itself: `new = false` leaves `new` to its author.
#[logwire::service(new = false)]
struct BuildService {
    logger: Logger,
    retries: u32,
}

#[logwire::service]
impl BuildService {
    fn new(logger: Logger) -> Self {
        BuildService { logger, retries: 3 }
    }

    fn retries(&self) -> u32 {
        self.retries
    }
}

struct Ctx {
    logger: Logger,
}

impl AsRef<Logger> for Ctx {
    fn as_ref(&self) -> &Logger {
        &self.logger
    }
}

impl FromContext<Ctx> for u32 {
    fn from_context(_: &Ctx) -> u32 {
        5
    }
}

fn main() {
    let (logger, captured) = Logger::capture("api");
    let builds = BuildService::new(logger.clone());
    assert_eq!(builds.retries(), 3);
    // The generated glue is still there.
    assert_eq!(BuildService::from_context(&Ctx { logger }).retries(), 5);
    let lines = captured.lines();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].contains(" - DEBUG - METHOD_END | method=BuildService::retries elapsed_ms="), "{}", lines[0]);
}
