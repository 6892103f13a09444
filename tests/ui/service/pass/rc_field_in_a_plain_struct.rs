// A service with an `Rc` field (no generics): compiles with no opt-out.
use std::rc::Rc;

use logwire::{FromContext, Logger};

struct Ctx {
    logger: Logger,
    cache: Rc<Vec<u32>>,
}

impl AsRef<Logger> for Ctx {
    fn as_ref(&self) -> &Logger {
        &self.logger
    }
}

impl FromContext<Ctx> for Rc<Vec<u32>> {
    fn from_context(ctx: &Ctx) -> Self {
        ctx.cache.clone()
    }
}

#[logwire::service]
struct Cache {
    logger: Logger,
    cache: Rc<Vec<u32>>,
}

#[logwire::service]
impl Cache {
    fn len(&self) -> usize {
        self.cache.len()
    }
}

fn main() {
    let (logger, _) = Logger::capture("worker");
    let ctx = Ctx { logger, cache: Rc::new(vec![1, 2]) };
    assert_eq!(Cache::from_context(&ctx).len(), 2);
    assert_eq!(Cache::new(ctx.logger.clone(), Rc::new(vec![])).len(), 0);
}
