use logwire::Logger;

#[logwire::service]
struct BuildService {
    logger: Logger,
}

#[logwire::service]
impl BuildService {
    #[log(skip_all)]
    fn helper(n: u32) -> u32 {
        n
    }
}

fn main() {}
