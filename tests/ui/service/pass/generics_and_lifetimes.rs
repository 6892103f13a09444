use std::fmt::Display;

use logwire::Logger;

#[logwire::service]
pub struct Labeler<'a, T: Display + Clone> {
    logger: Logger,
    prefix: &'a str,
    value: T,
}

#[logwire::service]
impl<'a, T: Display + Clone> Labeler<'a, T> {
    pub fn label(&self, n: u32) -> String {
        format!("{}-{}-{n}", self.prefix, self.value)
    }

    pub fn prefix(&self) -> &'a str {
        self.prefix
    }

    pub fn echo<U: Display>(&self, u: U) -> String {
        u.to_string()
    }
}

fn main() {
    let (logger, captured) = Logger::capture("x");
    let labeler = Labeler::new(logger, "build", 7u8);
    assert_eq!(labeler.label(1), "build-7-1");
    assert_eq!(labeler.prefix(), "build");
    assert_eq!(labeler.echo('c'), "c");
    assert_eq!(captured.records().len(), 3);
}
