//! Writes a large log for `benches/trace.sh`: `gen_logs ROOT NAME MB` writes
//! about MB megabytes as logger NAME under ROOT (rotating at 31 MiB, 10
//! backups), requests `req-N` with a few lines each; halfway, the traced
//! request `req-bench` (logger `api`) or the job it queued, `build-bench`
//! with `origin=req-bench` (any other logger).

use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [root, name, mb] = &args[..] else {
        eprintln!("usage: gen_logs ROOT NAME MB");
        std::process::exit(2);
    };
    let bytes: u64 = mb.parse::<u64>().expect("MB is a number") << 20;
    let log = logwire::Logger::builder(name)
        .root(root)
        .max_bytes(31 << 20)
        .backups(10)
        .build();
    let mut written = 0u64;
    let mut n = 0u64;
    let mut traced = false;
    while written < bytes {
        let txid = format!("req-{n}");
        logwire::txid::scope_sync(txid, || {
            logwire::info!(
                log,
                "REQUEST_START",
                method = "GET",
                path = "/api/builds",
                user = "admin"
            );
            logwire::debug!(log, "CACHE_MISS", key = "builds:page:1");
            logwire::info!(
                log,
                "REQUEST_END",
                method = "GET",
                path = "/api/builds",
                status_code = 200,
                duration_ms = 1.25
            );
        });
        n += 1;
        if n.is_multiple_of(4096) {
            log.flush();
            // Two INFO lines of about 150 bytes each per request (DEBUG is off).
            written = n * 300;
        }
        if !traced && written >= bytes / 2 {
            traced = true;
            if name == "api" {
                logwire::txid::scope_sync("req-bench", || {
                    logwire::info!(log, "REQUEST_START", method = "POST", path = "/api/builds");
                    logwire::info!(log, "BUILD_QUEUED", build_id = 7);
                    logwire::info!(
                        log,
                        "REQUEST_END",
                        method = "POST",
                        path = "/api/builds",
                        status_code = 201
                    );
                });
            } else {
                logwire::txid::scope_sync("build-bench", || {
                    logwire::info!(log, "JOB_START", origin = "req-bench", project = "demo");
                    logwire::info!(log, "BUILD_FINISHED", build_id = 7, status = "success");
                    logwire::info!(log, "JOB_END", status = "ok", duration_ms = 812.5);
                });
            }
        }
    }
    log.flush();
    std::thread::sleep(Duration::from_millis(100));
}
