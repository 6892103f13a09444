// A service over a borrowed slice of any `T`: compiles as it is.
use logwire::Logger;

#[logwire::service]
struct Batch<'a, T> {
    logger: Logger,
    items: &'a [T],
}

#[logwire::service]
impl<'a, T> Batch<'a, T> {
    fn count(&self) -> usize {
        self.items.len()
    }
}

fn main() {
    let (logger, _) = Logger::capture("worker");
    let items = [std::rc::Rc::new(1), std::rc::Rc::new(2)];
    assert_eq!(Batch::new(logger, &items).count(), 2);
}
