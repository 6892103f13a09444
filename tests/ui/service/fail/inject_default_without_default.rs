use logwire::Logger;

struct Db;

#[logwire::service]
struct BuildService {
    logger: Logger,
    #[inject(default)]
    db: Db,
}

fn main() {}
