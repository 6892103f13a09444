// Whatever compiles without #[service] compiles with it: coercions of the
// tail and of `return`s to the declared type, `?` conversions, a typed `let`
// of a generic call, impl Trait returns, sync and async.
use logwire::Logger;

#[logwire::service]
struct S {
    logger: Logger,
}

#[logwire::service]
impl S {
    fn boxed(&self, fail: bool) -> Result<Box<dyn Fn() -> u32 + Send + Sync>, String> {
        if fail {
            return Ok(Box::new(|| 0));
        }
        Ok(Box::new(|| 1))
    }

    async fn boxed_async(&self, fail: bool) -> Result<Box<dyn Fn() -> u32 + Send + Sync>, String> {
        if fail {
            return Ok(Box::new(|| 0));
        }
        Ok(Box::new(|| 1))
    }

    fn question_mark(&self, s: &str) -> Result<u32, Box<dyn std::error::Error>> {
        Ok(s.parse::<u32>()?)
    }

    fn typed_default(&self) -> u32 {
        let x: u32 = Default::default();
        x
    }

    fn slice(&self) -> &[u8] {
        &[]
    }

    fn iter(&self) -> impl Iterator<Item = u32> {
        vec![1, 2].into_iter()
    }

    fn later(&self) -> impl std::future::Future<Output = u32> + Send + 'static {
        async { 3 }
    }
}

fn main() {}
