fn main() {
    let (log, _) = logwire::Logger::capture("api");
    logwire::info!(log, 5, rows = 2);
}
