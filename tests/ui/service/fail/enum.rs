#[logwire::service]
enum BuildService {
    Api,
    Worker,
}

fn main() {}
