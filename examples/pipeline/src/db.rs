//! The database handle: SQLite at `{DATA_DIR}/pipeline.db`, migrated on
//! first start. Not a service: services receive it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::Connection;
use serde::Serialize;

/// Schema versions, applied in order; `PRAGMA user_version` records how
/// many ran.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE users (
         id INTEGER PRIMARY KEY,
         username TEXT NOT NULL UNIQUE,
         password_hash TEXT NOT NULL
     );
     CREATE TABLE sessions (
         token_hash TEXT PRIMARY KEY,
         user_id INTEGER NOT NULL REFERENCES users(id),
         expires_at INTEGER NOT NULL
     );
     CREATE TABLE builds (
         id INTEGER PRIMARY KEY,
         project TEXT NOT NULL,
         status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'success', 'failed')),
         request_id TEXT,
         created_at INTEGER NOT NULL
     );
     CREATE TABLE deployments (
         id INTEGER PRIMARY KEY,
         build_id INTEGER NOT NULL REFERENCES builds(id),
         status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'success', 'failed')),
         request_id TEXT,
         created_at INTEGER NOT NULL
     );",
    // Which worker runs a job, so that a crashed one's jobs can be reclaimed.
    "ALTER TABLE builds ADD COLUMN worker TEXT;
     ALTER TABLE deployments ADD COLUMN worker TEXT;",
    // The W3C traceparent of the request that queued a job, so that the
    // job joins the request's trace.
    "ALTER TABLE builds ADD COLUMN traceparent TEXT;
     ALTER TABLE deployments ADD COLUMN traceparent TEXT;",
];

/// A shared connection. Queries run on tokio's blocking pool.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Db")
    }
}

/// What can go wrong talking to the database.
#[derive(Debug)]
pub enum DbError {
    /// SQLite failed a statement.
    Sqlite(rusqlite::Error),
    /// The database file could not be opened or migrated.
    Open { path: PathBuf, source: rusqlite::Error },
    /// Its directory could not be created.
    CreateDir { dir: PathBuf, source: std::io::Error },
    /// The query's task did not finish: it panicked, or the runtime is
    /// shutting down.
    Task(tokio::task::JoinError),
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbError::Sqlite(e) => write!(f, "database: {e}"),
            DbError::Open { path, source } => write!(f, "cannot open {}: {source}", path.display()),
            DbError::CreateDir { dir, source } => write!(f, "cannot create {}: {source}", dir.display()),
            DbError::Task(e) => write!(f, "database task: {e}"),
        }
    }
}

impl std::error::Error for DbError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DbError::Sqlite(e) | DbError::Open { source: e, .. } => Some(e),
            DbError::CreateDir { source, .. } => Some(source),
            DbError::Task(e) => Some(e),
        }
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError::Sqlite(e)
    }
}

/// What a database call returns.
pub type DbResult<T> = Result<T, DbError>;

impl Db {
    /// Opens (creating if needed) and migrates the database.
    ///
    /// The API and the worker start together and may both find a new
    /// file: setting WAL mode and migrating then meet SQLite's lock, which
    /// `busy_timeout` does not cover for the journal-mode switch, so busy
    /// errors are retried for up to 10 s.
    pub async fn open(path: &Path) -> DbResult<Db> {
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|source| DbError::CreateDir {
                    dir: dir.to_owned(),
                    source,
                })?;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let file = path.to_owned();
            let attempt = tokio::task::spawn_blocking(move || Db::try_open(&file))
                .await
                .map_err(DbError::Task)?;
            match attempt {
                Err(e) if is_busy(&e) && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                r => {
                    return r.map_err(|source| DbError::Open {
                        path: path.to_owned(),
                        source,
                    })
                }
            }
        }
    }

    fn try_open(path: &Path) -> rusqlite::Result<Db> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        // The API and the worker are two processes on one file.
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")?;
        let db = Db {
            conn: Arc::new(Mutex::new(conn)),
        };
        db.migrate()?;
        Ok(db)
    }

    fn migrate(&self) -> rusqlite::Result<()> {
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let done: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(done).unwrap_or(0)) {
            tx.execute_batch(sql)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        }
        tx.commit()
    }

    /// Runs `f` with the connection on the blocking pool.
    pub async fn call<T, F>(&self, f: F) -> DbResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        let done = tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn)
        })
        .await;
        Ok(done.map_err(DbError::Task)??)
    }
}

/// Where a build or a deployment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Queued,
    Running,
    Success,
    Failed,
}

impl Status {
    /// The name stored in the database and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Success => "success",
            Status::Failed => "failed",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ToSql for Status {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

impl FromSql for Status {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Status> {
        match value.as_str()? {
            "queued" => Ok(Status::Queued),
            "running" => Ok(Status::Running),
            "success" => Ok(Status::Success),
            "failed" => Ok(Status::Failed),
            other => Err(FromSqlError::Other(format!("unknown status {other:?}").into())),
        }
    }
}

/// A table of queued work: builds and deployments are claimed and
/// finished alike. The names are fixed here, never taken from input.
#[derive(Debug, Clone, Copy)]
pub enum WorkTable {
    Builds,
    Deployments,
}

impl WorkTable {
    fn name(self) -> &'static str {
        match self {
            WorkTable::Builds => "builds",
            WorkTable::Deployments => "deployments",
        }
    }
}

impl Db {
    /// Marks the oldest queued row of `table` running and returns it read
    /// by `row` from `columns`; one statement, so two workers never take
    /// the same row.
    pub async fn claim_next<T: Send + 'static>(
        &self,
        table: WorkTable,
        columns: &'static str,
        row: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
        worker: String,
    ) -> DbResult<Option<T>> {
        use rusqlite::OptionalExtension;
        let t = table.name();
        let sql = format!(
            "UPDATE {t} SET status = ?1, worker = ?2
             WHERE id = (SELECT id FROM {t} WHERE status = ?3 ORDER BY id LIMIT 1)
             RETURNING {columns}"
        );
        self.call(move |c| {
            c.query_row(&sql, rusqlite::params![Status::Running, worker, Status::Queued], row)
                .optional()
        })
        .await
    }

    /// Marks `failed` every running row of `table` whose worker is not
    /// `alive`, and returns them with the worker that had them.
    pub async fn reclaim(&self, table: WorkTable, alive: fn(&str) -> bool) -> DbResult<Vec<(i64, Option<String>)>> {
        let t = table.name();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let running: Vec<(i64, Option<String>)> = tx
                .prepare(&format!("SELECT id, worker FROM {t} WHERE status = ?1"))?
                .query_map([Status::Running], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            let gone: Vec<_> = running
                .into_iter()
                .filter(|(_, worker)| !worker.as_deref().is_some_and(alive))
                .collect();
            for (id, _) in &gone {
                tx.execute(
                    &format!("UPDATE {t} SET status = ?1 WHERE id = ?2"),
                    rusqlite::params![Status::Failed, id],
                )?;
            }
            tx.commit()?;
            Ok(gone)
        })
        .await
    }

    /// Records how a row of `table` ended: `success` or `failed`.
    pub async fn finish(&self, table: WorkTable, id: i64, success: bool) -> DbResult<Status> {
        let status = if success { Status::Success } else { Status::Failed };
        let sql = format!("UPDATE {} SET status = ?1 WHERE id = ?2", table.name());
        self.call(move |c| c.execute(&sql, rusqlite::params![status, id]))
            .await?;
        Ok(status)
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A child of the test below: waits for the start signal, opens.
    #[test]
    #[ignore = "a child process of simultaneous_first_opens_all_succeed, not a test by itself"]
    fn open_as_child() {
        let path = std::path::PathBuf::from(std::env::var("DB_PATH").expect("set by the parent test"));
        let go = path.with_file_name("go");
        while !go.exists() {
            std::thread::sleep(Duration::from_micros(100));
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        if let Err(e) = rt.block_on(Db::open(&path)) {
            panic!("{e}");
        }
    }

    #[test]
    fn a_status_is_stored_by_name_and_an_unknown_name_is_an_error() {
        let conn = Connection::open_in_memory().unwrap();
        for status in [Status::Queued, Status::Running, Status::Success, Status::Failed] {
            let (text, back): (String, Status) = conn
                .query_row("SELECT ?1, ?1", [status], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap();
            assert_eq!((text.as_str(), back), (status.as_str(), status));
            assert_eq!(serde_json::to_string(&status).unwrap(), format!("\"{status}\""));
        }
        let err = conn
            .query_row("SELECT 'done'", [], |r| r.get::<_, Status>(0))
            .unwrap_err();
        assert!(err.to_string().contains("unknown status \"done\""), "{err}");
    }

    #[test]
    fn simultaneous_first_opens_all_succeed() {
        // Processes, as the API and the worker are: SQLite's locks between
        // connections of one process do not show the race.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipeline.db");
        let children: Vec<_> = (0..8)
            .map(|_| {
                std::process::Command::new(std::env::current_exe().unwrap())
                    .args(["--exact", "db::tests::open_as_child", "--ignored", "--test-threads=1"])
                    .env("DB_PATH", &path)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        std::fs::write(dir.path().join("go"), b"").unwrap();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        let conn = Connection::open(&path).unwrap();
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
    }
}
