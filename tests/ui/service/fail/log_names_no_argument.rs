use logwire::Logger;

#[logwire::service]
struct BuildService {
    logger: Logger,
}

#[logwire::service]
impl BuildService {
    #[log(skip(tokn))]
    fn check(&self, token: &str) -> bool {
        token.is_empty()
    }
}

fn main() {}
