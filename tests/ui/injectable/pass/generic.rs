use logwire::{FromContext, Logger};

#[derive(logwire::Injectable)]
pub struct Cache<T: Default + Clone + 'static> {
    pub logger: Logger,
    #[inject(default)]
    pub items: Vec<T>,
}

fn main() {
    let (logger, _) = Logger::capture("x");
    let cache: Cache<u8> = Cache::from_context(&logger);
    assert!(cache.items.is_empty());
}
