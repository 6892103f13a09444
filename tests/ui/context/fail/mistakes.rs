use logwire::Logger;

#[derive(Clone)]
pub struct Db;

#[derive(logwire::Context)]
pub struct NoLogger {
    db: Db,
}

#[derive(logwire::Context)]
pub struct Twice<T: Clone> {
    logger: Logger,
    primary: Db,
    replica: Db,
    #[context(skp)]
    param: T,
}

#[derive(logwire::Context)]
pub struct NotALogger {
    logger: String,
}

fn main() {}
