//! Transaction ids: nesting, concurrency on a multi-thread runtime, and
//! the prefix on every logger.

use std::time::Duration;

use logwire::Logger;

#[test]
fn scopes_nest_and_restore() {
    assert_eq!(logwire::txid::current(), None);
    logwire::txid::scope_sync("outer", || {
        assert_eq!(logwire::txid::current().as_deref(), Some("outer"));
        logwire::txid::scope_sync("inner", || {
            assert_eq!(logwire::txid::current().as_deref(), Some("inner"))
        });
        assert_eq!(logwire::txid::current().as_deref(), Some("outer"));
    });
    assert_eq!(logwire::txid::current(), None);
}

#[test]
fn a_panic_inside_a_scope_does_not_leak_the_id() {
    let result = std::panic::catch_unwind(|| logwire::txid::scope_sync("doomed", || panic!("boom")));
    assert!(result.is_err());
    assert_eq!(logwire::txid::current(), None);
}

#[test]
fn every_logger_prefixes_the_id() {
    let (a, cap_a) = Logger::capture("a");
    let (b, cap_b) = Logger::capture("b");
    logwire::txid::scope_sync("req-9", || {
        logwire::info!(a, "X");
        logwire::info!(b, "Y");
    });
    assert!(cap_a.lines()[0].starts_with("[req-9] "));
    assert!(cap_b.lines()[0].starts_with("[req-9] "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_tasks_never_cross_ids() {
    let (log, cap) = Logger::capture("api");
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let log = log.clone();
            tokio::spawn(logwire::txid::scope(format!("req-{i}"), async move {
                for step in 0..5u32 {
                    logwire::info!(log, "STEP", task = i, step = step);
                    tokio::time::sleep(Duration::from_micros(50 * u64::from(step))).await;
                    tokio::task::yield_now().await;
                    assert_eq!(logwire::txid::current(), Some(format!("req-{i}")));
                }
            }))
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let records = cap.records();
    assert_eq!(records.len(), 1000);
    let crossed = records
        .iter()
        .filter(|r| r.txid.as_deref() != Some(format!("req-{}", r.field("task").unwrap()).as_str()))
        .count();
    assert_eq!(crossed, 0);
    assert_eq!(logwire::txid::current(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn propagate_carries_the_id_into_spawned_tasks() {
    let id = logwire::txid::scope("job-7", async {
        let without = tokio::spawn(async { logwire::txid::current() });
        let with = tokio::spawn(logwire::txid::propagate(async { logwire::txid::current() }));
        (without.await.unwrap(), with.await.unwrap())
    })
    .await;
    assert_eq!(id, (None, Some("job-7".to_owned())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn propagate_fn_carries_the_id_into_spawn_blocking_and_threads() {
    let (log, cap) = Logger::capture("api");
    let seen = logwire::txid::scope("req-3", async {
        let log2 = log.clone();
        let blocking = tokio::task::spawn_blocking(logwire::txid::propagate_fn(move || {
            logwire::info!(log2, "HASHED");
            logwire::txid::current()
        }));
        let without = tokio::task::spawn_blocking(logwire::txid::current);
        let thread = std::thread::spawn(logwire::txid::propagate_fn(logwire::txid::current));
        // A borrowing closure on a scoped thread.
        let local = String::from("borrowed");
        let scoped = std::thread::scope(|s| {
            s.spawn(logwire::txid::propagate_fn(|| (local.len(), logwire::txid::current())))
                .join()
                .unwrap()
        });
        (
            blocking.await.unwrap(),
            without.await.unwrap(),
            thread.join().unwrap(),
            scoped,
        )
    })
    .await;
    let req = Some("req-3".to_owned());
    assert_eq!(seen, (req.clone(), None, req.clone(), (8, req)));
    assert_eq!(cap.records()[0].txid.as_deref(), Some("req-3"));
}

/// The current logger goes along too: a library event on the other thread
/// reaches the request's logger, not the layer's fallback.
#[test]
fn propagate_fn_carries_the_current_logger() {
    use tracing_subscriber::layer::SubscriberExt;
    let (fallback, fallback_cap) = Logger::capture("fallback");
    let (request, request_cap) = Logger::capture("request");
    let subscriber = tracing_subscriber::registry().with(logwire::layer(&fallback));
    let dispatch = tracing::Dispatch::new(subscriber);
    let f = request.in_scope(|| {
        let dispatch = dispatch.clone();
        logwire::txid::scope_sync("req-4", || {
            logwire::txid::propagate_fn(move || {
                tracing::dispatcher::with_default(&dispatch, || tracing::info!(rows = 3, "query done"))
            })
        })
    });
    std::thread::spawn(f).join().unwrap();
    std::thread::spawn(move || tracing::dispatcher::with_default(&dispatch, || tracing::info!("unscoped")))
        .join()
        .unwrap();
    let records = request_cap.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].message, "query done");
    assert_eq!(records[0].txid.as_deref(), Some("req-4"));
    let fallback: Vec<String> = fallback_cap.records().into_iter().map(|r| r.message).collect();
    assert_eq!(fallback, ["unscoped"]);
}

/// A value whose `Display` runs code of its own under another txid (here
/// it logs with one): formatting a line must not hold the thread's txid
/// while it runs.
#[test]
fn a_value_whose_display_enters_a_txid_scope_is_written_without_a_panic() {
    struct Audited(Logger);
    impl std::fmt::Display for Audited {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            logwire::txid::scope_sync("audit-1", || logwire::info!(self.0, "AUDIT_READ"));
            f.write_str("secret-ref")
        }
    }
    let (log, cap) = Logger::capture("api");
    let audit = Audited(log.clone());
    logwire::txid::scope_sync("req-1", || logwire::info!(log, "READ", what = %audit));
    // The value is formatted for the line and again for the capture's
    // record: one AUDIT_READ each time, all under its own id.
    let lines = cap.lines();
    let (audits, rest): (Vec<_>, Vec<_>) = lines.iter().partition(|l| l.contains(" - AUDIT_READ"));
    assert!(
        !audits.is_empty() && audits.iter().all(|l| l.starts_with("[audit-1] ")),
        "{lines:?}"
    );
    assert_eq!(rest.len(), 1, "{lines:?}");
    assert!(
        rest[0].starts_with("[req-1] ") && rest[0].ends_with(" - READ | what=secret-ref"),
        "{lines:?}"
    );
    assert_eq!(logwire::txid::current(), None);
}
