//! `#[service]` and `#[derive(Injectable)]`: constructors, worker
//! contexts, and the exact METHOD_END / METHOD_ERROR lines.

use std::fmt;

use logwire::{FromContext, Level, Logger, Value};

#[derive(Debug, Clone, Default, PartialEq)]
struct Db(&'static str);

#[logwire::service]
struct BuildService {
    logger: Logger,
    db: Db,
}

#[derive(Debug, PartialEq)]
struct AppError(String);

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "build {} failed", self.0)
    }
}

#[derive(Debug)]
struct LoginRequest {
    user: String,
    #[allow(dead_code)] // read only through Debug
    password: String,
}

#[logwire::service]
impl BuildService {
    fn queue(&self, project: &str, priority: u8) -> Result<u64, AppError> {
        if project == "missing" {
            return Err(AppError(project.to_owned()));
        }
        Ok(u64::from(priority) + 40)
    }

    async fn list(&self, limit: u32, owner: String) -> Vec<u32> {
        tokio::task::yield_now().await;
        (0..limit).filter(|_| !owner.is_empty()).collect()
    }

    fn login(&self, req: LoginRequest, api_key: &str, session_token: String) -> bool {
        req.user == "admin" && !api_key.is_empty() && !session_token.is_empty()
    }

    #[log(record(req))]
    fn login_recorded(&self, req: &LoginRequest) -> usize {
        req.user.len()
    }

    #[log(record(password))]
    fn set_password(&self, password: &str) -> usize {
        password.len()
    }

    #[log(skip(project))]
    fn skipped(&self, project: &str, n: i64) -> i64 {
        n + project.len() as i64
    }

    #[log(skip_all)]
    fn quiet_args(&self, project: &str) -> usize {
        project.len()
    }

    #[log(off)]
    fn silent(&self) -> u8 {
        7
    }

    #[log(level = "info")]
    fn loud(&self, flag: bool, c: char, ratio: f64) -> bool {
        flag && c == 'x' && ratio > 0.0
    }

    fn db_name(&self) -> &str {
        self.db.0
    }

    fn rename(&mut self, name: &'static str) -> &mut Db {
        self.db = Db(name);
        &mut self.db
    }

    fn into_db(self) -> Db {
        self.db
    }

    fn nested_inner(&self) -> u8 {
        logwire::info!(self.logger, "INSIDE");
        1
    }

    fn fails_with_debug_only(&self) -> Result<(), DebugOnly> {
        Err(DebugOnly)
    }

    fn helper() -> u8 {
        3
    }
}

#[derive(Debug)]
struct DebugOnly;

fn service() -> (BuildService, logwire::Captured) {
    let (logger, cap) = Logger::capture("api");
    (BuildService::new(logger, Db("sqlite")), cap)
}

/// Lines without the timestamp, which the clock decides.
fn bodies(cap: &logwire::Captured) -> Vec<String> {
    // "YYYY-MM-DD HH:MM:SS.mmmZ - " is 27 bytes.
    cap.lines().iter().map(|l| l[27..].to_owned()).collect()
}

fn elapsed_ok(cap: &logwire::Captured) {
    for r in cap.records() {
        match r.field("elapsed_ms") {
            Some(Value::F64(ms)) => assert!(*ms >= 0.0 && *ms < 10_000.0),
            other => panic!("elapsed_ms missing or not a float: {other:?}"),
        }
    }
}

/// Replaces the elapsed_ms value with `E` for exact comparisons.
fn masked(cap: &logwire::Captured) -> Vec<String> {
    elapsed_ok(cap);
    let re = regex::Regex::new(r"elapsed_ms=[0-9.e-]+").unwrap();
    bodies(cap)
        .iter()
        .map(|l| re.replace(l, "elapsed_ms=E").into_owned())
        .collect()
}

#[test]
fn method_end_line_with_plain_arguments() {
    let (svc, cap) = service();
    assert_eq!(svc.queue("demo", 2), Ok(42));
    assert_eq!(
        masked(&cap),
        ["api - DEBUG - METHOD_END | method=BuildService::queue project=demo priority=2 elapsed_ms=E"]
    );
    let r = &cap.records()[0];
    assert_eq!(r.level, Level::DEBUG);
    assert_eq!(r.message, "METHOD_END");
    assert_eq!(r.field("method").unwrap(), "BuildService::queue");
}

#[test]
fn method_error_line_instead_on_err() {
    let (svc, cap) = service();
    assert!(svc.queue("missing", 1).is_err());
    assert_eq!(
        masked(&cap),
        [
            r#"api - WARN - METHOD_ERROR | method=BuildService::queue project=missing priority=1 elapsed_ms=E error="build missing failed""#
        ]
    );
}

#[test]
fn an_error_without_display_is_written_with_debug() {
    let (svc, cap) = service();
    assert!(svc.fails_with_debug_only().is_err());
    assert_eq!(
        masked(&cap),
        ["api - WARN - METHOD_ERROR | method=BuildService::fails_with_debug_only elapsed_ms=E error=DebugOnly"]
    );
}

#[tokio::test]
async fn async_methods_write_one_line_too() {
    let (svc, cap) = service();
    assert_eq!(svc.list(3, "ann".into()).await, vec![0, 1, 2]);
    assert_eq!(cap.records()[0].span.as_deref(), Some("BuildService::list"));
    assert_eq!(
        masked(&cap),
        ["api - DEBUG - METHOD_END | method=BuildService::list limit=3 owner=ann elapsed_ms=E"]
    );
}

#[test]
fn structs_are_not_recorded_and_secrets_never_are() {
    let (svc, cap) = service();
    let req = LoginRequest {
        user: "admin".into(),
        password: "hunter2-req".into(),
    };
    assert!(svc.login(req, "key-123-secret", "tok-456".into()));
    assert_eq!(
        masked(&cap),
        [r#"api - DEBUG - METHOD_END | method=BuildService::login api_key=*** session_token=*** elapsed_ms=E"#]
    );
    let text = cap.text();
    for secret in ["hunter2-req", "key-123-secret", "tok-456"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
}

#[test]
fn record_writes_a_struct_with_debug_and_its_secrets_as_stars() {
    let (svc, cap) = service();
    let req = LoginRequest {
        user: "eve".into(),
        password: "hunter2".into(),
    };
    svc.login_recorded(&req);
    assert_eq!(
        masked(&cap),
        [
            r#"api - DEBUG - METHOD_END | method=BuildService::login_recorded req="LoginRequest { user: \"eve\", password: *** }" elapsed_ms=E"#
        ]
    );
}

#[derive(Debug)]
#[allow(dead_code)] // read only through Debug
struct Deploy {
    target: String,
    login: LoginRequest,
    headers: std::collections::BTreeMap<&'static str, String>,
}

#[logwire::service]
struct Deployer {
    logger: Logger,
}

#[logwire::service]
impl Deployer {
    #[log(record(req))]
    fn deploy(&self, req: Deploy) -> bool {
        !req.target.is_empty()
    }
}

#[test]
fn record_stars_secret_fields_and_map_keys_at_any_depth() {
    let (log, cap) = Logger::capture("api");
    let req = Deploy {
        target: "prod".into(),
        login: LoginRequest {
            user: "eve".into(),
            password: "hunter2".into(),
        },
        headers: [("X-Api-Key", "k-123".to_owned()), ("Accept", "json".to_owned())].into(),
    };
    Deployer::new(log).deploy(req);
    let recorded = cap.records()[0].field("req").unwrap().to_string();
    assert_eq!(
        recorded,
        r#"Deploy { target: "prod", login: LoginRequest { user: "eve", password: *** }, headers: {"Accept": "json", "X-Api-Key": ***} }"#
    );
    assert!(!cap.text().contains("hunter2") && !cap.text().contains("k-123"));
}

#[test]
fn record_cannot_reveal_a_secret() {
    let (svc, cap) = service();
    svc.set_password("hunter2");
    assert_eq!(
        masked(&cap),
        ["api - DEBUG - METHOD_END | method=BuildService::set_password password=*** elapsed_ms=E"]
    );
    assert!(!cap.text().contains("hunter2"));
}

#[test]
fn skip_and_skip_all_leave_arguments_out() {
    let (svc, cap) = service();
    svc.skipped("demo", 1);
    svc.quiet_args("demo");
    assert_eq!(
        masked(&cap),
        [
            "api - DEBUG - METHOD_END | method=BuildService::skipped n=1 elapsed_ms=E",
            "api - DEBUG - METHOD_END | method=BuildService::quiet_args elapsed_ms=E",
        ]
    );
}

#[test]
fn off_writes_nothing_and_associated_functions_are_untouched() {
    let (svc, cap) = service();
    assert_eq!(svc.silent(), 7);
    assert_eq!(BuildService::helper(), 3);
    assert!(cap.lines().is_empty());
}

#[test]
fn level_sets_the_method_end_level() {
    let (svc, cap) = service();
    svc.loud(true, 'x', 0.5);
    assert_eq!(
        masked(&cap),
        ["api - INFO - METHOD_END | method=BuildService::loud flag=true c=x ratio=0.5 elapsed_ms=E"]
    );
}

#[test]
fn a_disabled_level_writes_nothing_but_errors_still_warn() {
    let logger = Logger::builder("api").level(Level::INFO).build_capture();
    let svc = BuildService::new(logger.0, Db("x"));
    let _ = svc.queue("demo", 1);
    assert!(logger.1.lines().is_empty());
    let _ = svc.queue("missing", 1);
    assert_eq!(logger.1.records().len(), 1);
    assert_eq!(logger.1.records()[0].message, "METHOD_ERROR");
}

#[test]
fn receivers_that_return_borrows_or_consume_self_work() {
    let (mut svc, cap) = service();
    assert_eq!(svc.db_name(), "sqlite");
    svc.rename("pg").0 = "mysql";
    assert_eq!(svc.db_name(), "mysql");
    assert_eq!(svc.into_db(), Db("mysql"));
    let methods: Vec<String> = cap
        .records()
        .iter()
        .map(|r| r.field("method").unwrap().to_string())
        .collect();
    assert_eq!(
        methods,
        [
            "BuildService::db_name",
            "BuildService::rename",
            "BuildService::db_name",
            "BuildService::into_db"
        ]
    );
}

#[test]
fn lines_inside_a_method_carry_its_name_as_span() {
    let (svc, cap) = service();
    svc.nested_inner();
    let records = cap.records();
    assert_eq!(records[0].message, "INSIDE");
    assert_eq!(records[0].span.as_deref(), Some("BuildService::nested_inner"));
    assert_eq!(records[1].message, "METHOD_END");
    assert_eq!(records[1].span.as_deref(), Some("BuildService::nested_inner"));
}

#[test]
fn exactly_one_line_per_call() {
    let (svc, cap) = service();
    for i in 0..10 {
        let _ = svc.queue(if i % 2 == 0 { "demo" } else { "missing" }, 1);
    }
    assert_eq!(cap.records().len(), 10);
}

// Worker side: services built from a context, nesting.

struct WorkerCtx {
    logger: Logger,
    db: Db,
}

impl AsRef<Logger> for WorkerCtx {
    fn as_ref(&self) -> &Logger {
        &self.logger
    }
}

impl FromContext<WorkerCtx> for Db {
    fn from_context(ctx: &WorkerCtx) -> Self {
        ctx.db.clone()
    }
}

#[derive(logwire::Injectable)]
struct DeployService {
    logger: Logger,
    builds: BuildService,
    #[inject(default)]
    retries: u32,
}

#[test]
fn services_nest_through_from_context() {
    let (logger, cap) = Logger::capture("worker");
    let ctx = WorkerCtx {
        logger,
        db: Db("sqlite"),
    };
    let deploy = DeployService::from_context(&ctx);
    assert_eq!(deploy.retries, 0);
    assert_eq!(deploy.builds.db_name(), "sqlite");
    assert_eq!(deploy.logger.name(), "worker");
    assert_eq!(cap.records()[0].logger, "worker");
}

#[test]
fn injectable_generates_new_in_field_order() {
    let (logger, _) = Logger::capture("x");
    let builds = BuildService::new(logger.clone(), Db("a"));
    let deploy = DeployService::new(logger, builds, 3);
    assert_eq!(deploy.retries, 3);
}

#[test]
fn json_lines_carry_the_method_as_span() {
    use std::time::{Duration, UNIX_EPOCH};
    let (logger, cap) = Logger::builder("api")
        .level(Level::DEBUG)
        .format(logwire::Format::Json)
        .clock(|| UNIX_EPOCH + Duration::from_millis(1_735_732_800_123))
        .build_capture();
    let svc = BuildService::new(logger, Db("x"));
    svc.nested_inner();
    let lines = cap.lines();
    assert_eq!(
        lines[0],
        r#"{"ts":"2025-01-01T12:00:00.123Z","level":"INFO","logger":"api","message":"INSIDE","fields":{},"method":"BuildService::nested_inner"}"#
    );
    assert!(lines[1].starts_with(r#"{"ts":"2025-01-01T12:00:00.123Z","level":"DEBUG","logger":"api","message":"METHOD_END","fields":{"method":"BuildService::nested_inner","elapsed_ms":"#));
}

#[derive(Debug, Clone)]
#[logwire::service]
struct Debuggable {
    logger: Logger,
    retries: u32,
}

#[test]
fn a_service_derives_debug_in_one_line_that_never_shows_captured_lines() {
    let (logger, _captured) = Logger::capture("api");
    logwire::info!(logger, "NOT_IN_DEBUG", token = "abc");
    let service = Debuggable::new(logger, 3);
    assert_eq!(
        format!("{service:?}"),
        r#"Debuggable { logger: Logger { name: "api", level: LevelFilter::TRACE, format: Readable, sinks: [Capture] }, retries: 3 }"#
    );
    let copy = service.clone();
    assert_eq!((copy.logger.name(), copy.retries), ("api", 3));
}
