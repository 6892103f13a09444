#[logwire::service]
struct BuildService {
    logger: String,
}

fn main() {}
