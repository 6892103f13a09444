use logwire::{FromContext, Logger};

#[logwire::service]
struct BuildService {
    retries: u32,
    logger: Logger,
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
        3
    }
}

fn main() {
    // Only the struct's own error: its uses compile.
    let ctx = Ctx { logger: Logger::capture("w").0 };
    let _ = BuildService::from_context(&ctx);
    let _ = BuildService::new(3, Logger::capture("w").0);
}
