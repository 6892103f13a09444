use std::cell::Cell;
use std::rc::Rc;

use logwire::{FromContext, Logger};

/// A worker context that is not `Send` either.
struct Ctx {
    logger: Logger,
    counter: Rc<Cell<u32>>,
}

impl AsRef<Logger> for Ctx {
    fn as_ref(&self) -> &Logger {
        &self.logger
    }
}

impl FromContext<Ctx> for Rc<Cell<u32>> {
    fn from_context(ctx: &Ctx) -> Self {
        ctx.counter.clone()
    }
}

#[logwire::service]
struct Counter<R: 'static> {
    logger: Logger,
    counter: Rc<Cell<u32>>,
    #[inject(default)]
    extra: Option<Rc<R>>,
}

#[logwire::service]
impl<R: 'static> Counter<R> {
    fn bump(&self, by: u32) -> u32 {
        self.counter.set(self.counter.get() + by);
        self.counter.get()
    }
}

fn main() {
    let (logger, captured) = Logger::capture("worker");
    let ctx = Ctx { logger, counter: Rc::new(Cell::new(1)) };
    let counter = Counter::<String>::from_context(&ctx);
    assert!(counter.extra.is_none());
    assert_eq!(counter.bump(2), 3);
    let lines = captured.lines();
    assert_eq!(lines.len(), 1);
    assert!(lines[0].contains(" - DEBUG - METHOD_END | method=Counter::bump by=2 elapsed_ms="), "{}", lines[0]);
}
