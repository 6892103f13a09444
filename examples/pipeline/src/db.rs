//! The database handle: SQLite at `{DATA_DIR}/pipeline.db`, migrated on
//! first start. Not a service: services receive it.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::Connection;

/// Schema versions, applied in order; `PRAGMA user_version` records how
/// many ran.
const MIGRATIONS: &[&str] = &["CREATE TABLE users (
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
     );"];

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
    pub fn open(path: &Path) -> Result<Db, String> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let conn = Connection::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(|e| e.to_string())?;
        // The API and the worker are two processes on one file.
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")
            .map_err(|e| e.to_string())?;
        let db = Db {
            conn: Arc::new(Mutex::new(conn)),
        };
        db.migrate()
            .map_err(|e| format!("cannot migrate {}: {e}", path.display()))?;
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
    ) -> DbResult<Option<T>> {
        use rusqlite::OptionalExtension;
        let t = table.name();
        let sql = format!(
            "UPDATE {t} SET status = 'running'
             WHERE id = (SELECT id FROM {t} WHERE status = 'queued' ORDER BY id LIMIT 1)
             RETURNING {columns}"
        );
        self.call(move |c| c.query_row(&sql, [], row).optional()).await
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

/// Seconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
