#[logwire::service]
struct BuildService;

fn main() {}
