#[logwire::service]
struct BuildService {
    db: String,
}

fn main() {}
