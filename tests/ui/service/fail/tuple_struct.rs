use logwire::Logger;

#[logwire::service]
struct BuildService(Logger, String);

fn main() {}
