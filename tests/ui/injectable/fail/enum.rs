#[derive(logwire::Injectable)]
enum DeployService {
    Api,
}

fn main() {}
