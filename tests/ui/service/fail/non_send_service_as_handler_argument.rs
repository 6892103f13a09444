use std::rc::Rc;

use axum::routing::get;
use axum::Router;
use logwire::Logger;

/// Fine as a service (see the pass case), but not `Send`: axum cannot hold
/// it across the handler's `.await`s on a multi-threaded server.
#[logwire::service]
struct Cache {
    logger: Logger,
    #[inject(default)]
    hits: Rc<u32>,
}

async fn handler(cache: Cache) -> &'static str {
    let _ = cache;
    "ok"
}

fn main() {
    let _: Router = Router::new().route("/", get(handler));
}
