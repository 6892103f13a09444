// A worker-only service holding a borrowed connection that is `Send` but
// not `Sync` (as rusqlite's `Connection` is): it compiles as it is, built
// with `from_context`; it is simply not an axum extractor.
use std::cell::Cell;

use logwire::{FromContext, Logger};

#[derive(Debug)]
pub struct Conn(Cell<u32>);

struct Ctx<'c> {
    logger: Logger,
    conn: &'c Conn,
}

impl AsRef<Logger> for Ctx<'_> {
    fn as_ref(&self) -> &Logger {
        &self.logger
    }
}

impl<'c> FromContext<Ctx<'c>> for &'c Conn {
    fn from_context(ctx: &Ctx<'c>) -> Self {
        ctx.conn
    }
}

#[logwire::service]
struct Repo<'c> {
    logger: Logger,
    conn: &'c Conn,
}

#[logwire::service]
impl<'c> Repo<'c> {
    fn get(&self, id: u32) -> u32 {
        self.conn.0.get() + id
    }
}

fn main() {
    let (logger, captured) = Logger::capture("worker");
    let conn = Conn(Cell::new(1));
    let ctx = Ctx { logger, conn: &conn };
    assert_eq!(Repo::from_context(&ctx).get(1), 2);
    assert!(captured.lines()[0].contains("METHOD_END | method=Repo::get id=1"));
}
