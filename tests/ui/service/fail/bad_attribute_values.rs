use logwire::Logger;

#[logwire::service(level = 3)]
impl A {
    #[log(level = info)]
    fn f(&self) {}
}

struct A {
    logger: Logger,
}

#[derive(logwire::Injectable)]
struct B {
    logger: Logger,
    #[inject(default = "x")]
    name: String,
    #[inject(unknown)]
    other: String,
}

fn main() {}
