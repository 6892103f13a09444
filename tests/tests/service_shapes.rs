//! `#[service]` on the shapes real code has: `#[async_trait]` above or below
//! it, methods returning `impl Future`, bodies that rely on the return type
//! (coercions, `?`), and arguments recorded by their type, not spelling.

use std::future::Future;
use std::num::NonZeroU32;
use std::time::Duration;

use logwire::{Logger, Value};

type UserId = u64;
type Name<'a> = &'a str;

#[derive(Debug)]
struct Opaque(#[allow(dead_code)] u32);

#[logwire::service]
struct Fetcher {
    logger: Logger,
}

#[async_trait::async_trait]
trait Fetch {
    async fn fetch(&self, n: u32) -> Result<u32, String>;
}

#[async_trait::async_trait]
trait Fetch2 {
    async fn fetch2(&self, n: u32) -> Result<u32, String>;
}

// #[async_trait] runs first: #[service] finds the boxed async block.
#[async_trait::async_trait]
#[logwire::service]
impl Fetch for Fetcher {
    async fn fetch(&self, n: u32) -> Result<u32, String> {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if n == 0 {
            return Err("x".into());
        }
        Ok(n)
    }
}

// #[service] runs first.
#[logwire::service]
#[async_trait::async_trait]
impl Fetch2 for Fetcher {
    async fn fetch2(&self, n: u32) -> Result<u32, String> {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if n == 0 {
            Err("y".into())
        } else {
            Ok(n)
        }
    }
}

#[logwire::service]
impl Fetcher {
    fn later(&self, n: u32) -> impl Future<Output = Result<u32, String>> + Send + 'static {
        async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if n == 0 {
                Err("z".to_owned())
            } else {
                Ok(n)
            }
        }
    }

    fn boxed_fn(&self) -> Result<Box<dyn Fn() -> u32 + Send + Sync>, String> {
        Ok(Box::new(|| 1))
    }

    async fn boxed_fn_async(&self, fail: bool) -> Result<Box<dyn Fn() -> u32 + Send + Sync>, String> {
        tokio::task::yield_now().await;
        if fail {
            return Err("no".into());
        }
        Ok(Box::new(|| 2))
    }

    fn defaulted(&self) -> u32 {
        let x: u32 = Default::default();
        x + 1
    }

    fn parse(&self, s: &str) -> Result<u32, Box<dyn std::error::Error>> {
        Ok(s.parse::<u32>()?)
    }

    fn get(
        &self,
        id: UserId,
        n: NonZeroU32,
        limit: Option<u32>,
        none: Option<u32>,
        name: Name<'_>,
        opaque: Opaque,
    ) -> u32 {
        let _ = (id, n, limit, none, name, opaque);
        7
    }
}

fn outcome(log: &logwire::Captured, method: &str) -> (String, f64, Option<String>) {
    let records = log.records();
    let r = records
        .iter()
        .find(|r| r.field("method").is_some_and(|m| m == method))
        .unwrap_or_else(|| panic!("no line for {method} in {records:?}"));
    let Some(Value::F64(ms)) = r.field("elapsed_ms") else {
        panic!("{r:?}")
    };
    (r.message.clone(), *ms, r.field("error").map(|e| e.to_string()))
}

#[tokio::test]
async fn async_trait_in_either_order_writes_the_line_when_the_work_completes() {
    let (log, cap) = Logger::capture("api");
    let f = Fetcher::new(log);
    assert_eq!(f.fetch(0).await, Err("x".to_owned()));
    assert_eq!(f.fetch2(0).await, Err("y".to_owned()));
    assert_eq!(f.fetch(3).await, Ok(3));
    for method in ["Fetcher::fetch", "Fetcher::fetch2"] {
        let (message, ms, error) = outcome(&cap, method);
        assert_eq!(message, "METHOD_ERROR", "{method}");
        assert!(ms >= 50.0, "{method} took {ms} ms");
        assert!(error.is_some(), "{method}");
    }
    assert_eq!(cap.records().len(), 3);
    assert_eq!(cap.records()[2].message, "METHOD_END");
}

#[tokio::test]
async fn a_method_returning_impl_future_is_timed_to_the_end_of_the_future() {
    let (log, cap) = Logger::capture("api");
    let f = Fetcher::new(log);
    let fut = f.later(0);
    assert!(cap.records().is_empty(), "nothing written before the future runs");
    // 'static: it can be spawned.
    assert_eq!(tokio::spawn(fut).await.unwrap(), Err("z".to_owned()));
    let (message, ms, error) = outcome(&cap, "Fetcher::later");
    assert_eq!((message.as_str(), error.as_deref()), ("METHOD_ERROR", Some("z")));
    assert!(ms >= 50.0, "{ms} ms");
}

#[tokio::test]
async fn bodies_keep_their_coercions_and_conversions() {
    let (log, cap) = Logger::capture("api");
    let f = Fetcher::new(log);
    assert_eq!(f.boxed_fn().unwrap()(), 1);
    assert_eq!(f.boxed_fn_async(false).await.unwrap()(), 2);
    assert!(f.boxed_fn_async(true).await.is_err());
    assert!(f.parse("x").is_err());
    assert_eq!(f.defaulted(), 1);
    let messages: Vec<String> = cap.records().into_iter().map(|r| r.message).collect();
    assert_eq!(
        messages,
        ["METHOD_END", "METHOD_END", "METHOD_ERROR", "METHOD_ERROR", "METHOD_END"]
    );
}

#[test]
fn arguments_are_recorded_by_their_type_through_aliases_and_wrappers() {
    let (log, cap) = Logger::capture("api");
    Fetcher::new(log).get(42, NonZeroU32::new(5).unwrap(), Some(20), None, "ann", Opaque(9));
    let line = &cap.lines()[0];
    let fields = line.split(" | ").nth(1).unwrap();
    let (before_elapsed, _) = fields.split_once(" elapsed_ms=").unwrap();
    assert_eq!(before_elapsed, "method=Fetcher::get id=42 n=5 limit=20 name=ann");
    assert_eq!(cap.records()[0].field("id"), Some(&Value::U64(42)));
}
