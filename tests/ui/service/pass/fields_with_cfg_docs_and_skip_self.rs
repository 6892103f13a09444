use logwire::Logger;

#[logwire::service]
struct BuildService {
    /// Where lines go.
    logger: Logger,
    /// How often to retry.
    retries: u32,
    #[cfg(any())]
    never_compiled: String,
}

#[logwire::service]
impl BuildService {
    #[log(skip(self))]
    fn queue(&self, project: &str) -> u32 {
        let _ = project;
        self.retries
    }
}

fn main() {
    let (logger, captured) = Logger::capture("api");
    let builds = BuildService::new(logger, 3);
    assert_eq!(builds.queue("demo"), 3);
    let lines = captured.lines();
    assert_eq!(lines.len(), 1);
    assert!(lines[0].contains(" - DEBUG - METHOD_END | method=BuildService::queue project=demo elapsed_ms="), "{}", lines[0]);
}
