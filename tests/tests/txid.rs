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
