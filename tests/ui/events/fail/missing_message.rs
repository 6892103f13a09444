fn main() {
    let (log, _) = logwire::Logger::capture("api");
    logwire::info!(log, rows = 2);
    logwire::warn!(log);
    logwire::event!(log, logwire::Level::INFO, rows = 2);
}
