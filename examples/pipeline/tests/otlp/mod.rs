//! A local OTLP/HTTP receiver for the tests: what an exporter sends to
//! `/v1/traces` and `/v1/logs`, decoded with the protocol's own types
//! (opentelemetry-proto), kept for the test to look at.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::routing::post;
use axum::Router;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

/// One exported span.
#[derive(Debug, Clone)]
pub(crate) struct Span {
    /// The `service.name` of the resource that sent it.
    pub(crate) service: String,
    pub(crate) trace_id: String,
    pub(crate) span_id: String,
    /// Empty for a root span.
    pub(crate) parent_span_id: String,
    pub(crate) name: String,
    pub(crate) attributes: BTreeMap<String, String>,
}

/// One exported log record.
#[derive(Debug, Clone)]
pub(crate) struct LogRecord {
    pub(crate) service: String,
    /// The instrumentation scope: the `tracing` target of the event.
    pub(crate) target: String,
    /// Empty outside a trace.
    pub(crate) trace_id: String,
    pub(crate) body: String,
    pub(crate) attributes: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
struct Received {
    spans: Vec<Span>,
    logs: Vec<LogRecord>,
}

type Shared = Arc<Mutex<Received>>;

/// The receiver, listening on 127.0.0.1 until [`Receiver::stop`] or drop.
pub(crate) struct Receiver {
    pub(crate) port: u16,
    received: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    pub(crate) fn start() -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Shared::default();
        let app = Router::new()
            .route("/v1/traces", post(traces))
            .route("/v1/logs", post(logs))
            .with_state(received.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                tokio::select! {
                    served = axum::serve(listener, app) => served.unwrap(),
                    _ = stopped => {}
                }
            });
            // Dropping the runtime closes the listener and every connection.
        });
        Receiver {
            port,
            received,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Closes the port: later exports fail with "connection refused".
    pub(crate) fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }

    pub(crate) fn spans(&self) -> Vec<Span> {
        self.received.lock().unwrap().spans.clone()
    }

    pub(crate) fn logs(&self) -> Vec<LogRecord> {
        self.received.lock().unwrap().logs.clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An empty protobuf message is zero bytes: the `Export*ServiceResponse`.
fn accepted() -> (StatusCode, [(header::HeaderName, &'static str); 1]) {
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/x-protobuf")])
}

async fn traces(State(received): State<Shared>, body: Bytes) -> Result<impl axum::response::IntoResponse, StatusCode> {
    let request = ExportTraceServiceRequest::decode(body).map_err(|_| StatusCode::BAD_REQUEST)?;
    let mut received = received.lock().unwrap();
    for resource_spans in request.resource_spans {
        let service = service_name(resource_spans.resource.as_ref());
        for span in resource_spans.scope_spans.into_iter().flat_map(|s| s.spans) {
            received.spans.push(Span {
                service: service.clone(),
                trace_id: hex(&span.trace_id),
                span_id: hex(&span.span_id),
                parent_span_id: hex(&span.parent_span_id),
                name: span.name,
                attributes: attributes(&span.attributes),
            });
        }
    }
    Ok(accepted())
}

async fn logs(State(received): State<Shared>, body: Bytes) -> Result<impl axum::response::IntoResponse, StatusCode> {
    let request = ExportLogsServiceRequest::decode(body).map_err(|_| StatusCode::BAD_REQUEST)?;
    let mut received = received.lock().unwrap();
    for resource_logs in request.resource_logs {
        let service = service_name(resource_logs.resource.as_ref());
        for scope_logs in resource_logs.scope_logs {
            let target = scope_logs.scope.map(|s| s.name).unwrap_or_default();
            for record in scope_logs.log_records {
                received.logs.push(LogRecord {
                    service: service.clone(),
                    target: target.clone(),
                    trace_id: hex(&record.trace_id),
                    body: record.body.as_ref().map(text).unwrap_or_default(),
                    attributes: attributes(&record.attributes),
                });
            }
        }
    }
    Ok(accepted())
}

fn service_name(resource: Option<&Resource>) -> String {
    resource
        .map(|r| attributes(&r.attributes))
        .and_then(|mut a| a.remove("service.name"))
        .unwrap_or_default()
}

fn attributes(kvs: &[KeyValue]) -> BTreeMap<String, String> {
    kvs.iter()
        .map(|kv| (kv.key.clone(), kv.value.as_ref().map(text).unwrap_or_default()))
        .collect()
}

fn text(v: &AnyValue) -> String {
    match &v.value {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        other => format!("{other:?}"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
