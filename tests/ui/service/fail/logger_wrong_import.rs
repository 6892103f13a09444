mod mine {
    pub struct Logger;
}

use mine::Logger;

#[logwire::service]
struct BuildService {
    logger: Logger,
}

fn main() {}
