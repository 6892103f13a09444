//! The response body, watched to its end: REQUEST_END when it has ended,
//! one ERROR line for an error or a panic while it streams (tower-http's
//! `trace/body.rs` sees the end of the stream the same way).

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};
use pin_project_lite::pin_project;

use super::log::RequestLog;
use crate::context;
use crate::panic;

pin_project! {
    /// A response body that writes its request's REQUEST_END when it has
    /// ended: sent whole, failed, or dropped (a client that went away).
    pub(super) struct LoggedBody {
        #[pin]
        inner: Body,
        // `None` once REQUEST_END is written.
        log: Option<RequestLog>,
    }

    impl PinnedDrop for LoggedBody {
        fn drop(this: Pin<&mut Self>) {
            if let Some(log) = this.project().log.take() {
                end(&log);
            }
        }
    }
}

impl LoggedBody {
    pub(super) fn new(inner: Body, log: RequestLog) -> Self {
        LoggedBody { inner, log: Some(log) }
    }
}

/// Writes REQUEST_END inside the request's span and scope.
fn end(log: &RequestLog) {
    let _entered = log.span.enter();
    context::request_sync(log.txid.clone(), log.logger.clone(), log.kept.clone(), || log.ended());
}

impl http_body::Body for LoggedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.project();
        let Some(log) = this.log.as_ref() else {
            // Ended (an error or a panic): nothing more comes.
            return Poll::Ready(None);
        };
        let inner = this.inner;
        // The body runs the user's code (a stream): in the request's scope,
        // with its panics caught.
        let polled = {
            let _entered = log.span.enter();
            context::request_sync(log.txid.clone(), log.logger.clone(), log.kept.clone(), || {
                panic::catch(|| inner.poll_frame(cx)).inspect_err(|caught| log.body_panicked(caught))
            })
        };
        let out = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(Some(Ok(frame)))) => return Poll::Ready(Some(Ok(frame))),
            Ok(Poll::Ready(None)) => Poll::Ready(None),
            Ok(Poll::Ready(Some(Err(e)))) => {
                context::request_sync(log.txid.clone(), log.logger.clone(), log.kept.clone(), || {
                    log.body_failed(&e)
                });
                Poll::Ready(Some(Err(e)))
            }
            Err(_) => Poll::Ready(Some(Err(axum::Error::new("the response body panicked")))),
        };
        if let Some(log) = this.log.take() {
            end(&log);
        }
        out
    }

    fn is_end_stream(&self) -> bool {
        self.log.is_none() || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
