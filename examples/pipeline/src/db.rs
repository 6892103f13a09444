//! The database handle: SQLite at `{DATA_DIR}/pipeline.db`, migrated on
//! first start. Not a service: services receive it.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::Connection;

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

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Db")
    }
}

/// What can go wrong talking to the database.
pub type DbResult<T> = Result<T, rusqlite::Error>;

impl Db {
    /// Opens (creating if needed) and migrates the database.
    ///
    /// The API and the worker start together and may both find a new
    /// file: setting WAL mode and migrating then meet SQLite's lock, which
    /// `busy_timeout` does not cover for the journal-mode switch, so busy
    /// errors are retried for up to 10 s.
    pub fn open(path: &Path) -> Result<Db, String> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            match Db::try_open(path) {
                Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                r => return r.map_err(|e| format!("cannot open {}: {e}", path.display())),
            }
        }
    }

    fn try_open(path: &Path) -> DbResult<Db> {
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

    fn migrate(&self) -> DbResult<()> {
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
        F: FnOnce(&mut Connection) -> DbResult<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn)
        })
        .await
        // Only a panic in `f` (or a runtime shutting down) gets here.
        .unwrap_or_else(|join| Err(rusqlite::Error::ToSqlConversionFailure(Box::new(join))))
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
            "UPDATE {t} SET status = 'running', worker = ?1
             WHERE id = (SELECT id FROM {t} WHERE status = 'queued' ORDER BY id LIMIT 1)
             RETURNING {columns}"
        );
        self.call(move |c| c.query_row(&sql, [worker], row).optional()).await
    }

    /// Marks `failed` every running row of `table` whose worker is not
    /// `alive`, and returns them with the worker that had them.
    pub async fn reclaim(&self, table: WorkTable, alive: fn(&str) -> bool) -> DbResult<Vec<(i64, Option<String>)>> {
        let t = table.name();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let running: Vec<(i64, Option<String>)> = tx
                .prepare(&format!("SELECT id, worker FROM {t} WHERE status = 'running'"))?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            let gone: Vec<_> = running
                .into_iter()
                .filter(|(_, worker)| !worker.as_deref().is_some_and(alive))
                .collect();
            for (id, _) in &gone {
                tx.execute(&format!("UPDATE {t} SET status = 'failed' WHERE id = ?1"), [id])?;
            }
            tx.commit()?;
            Ok(gone)
        })
        .await
    }

    /// Records how a row of `table` ended: `success` or `failed`.
    pub async fn finish(&self, table: WorkTable, id: i64, success: bool) -> DbResult<&'static str> {
        let status = if success { "success" } else { "failed" };
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
        if let Err(e) = Db::open(&path) {
            panic!("{e}");
        }
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
