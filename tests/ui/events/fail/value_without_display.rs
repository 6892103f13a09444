struct Build {
    id: u64,
}

fn main() {
    let (log, _) = logwire::Logger::capture("api");
    let build = Build { id: 7 };
    logwire::info!(log, "QUEUED", build = build, id = build.id);
}
