//! Logins and sessions: argon2 password hashes, 256-bit random session ids
//! stored only as SHA-256 hashes, compared in constant time, expiring.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::time::Duration;

use argon2::Argon2;
use logwire::Logger;
use rusqlite::OptionalExtension;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::AppError;
use crate::config::AppConfig;
use crate::db::{now, Db};

/// A logged-in user.
#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
}

#[logwire::service]
pub struct AuthService {
    logger: Logger,
    #[inject(from_ref)]
    db: Db,
    #[inject(from_ref)]
    config: AppConfig,
    #[inject(from_ref)]
    hashing: Hashing,
}

/// Room for password hashing. Argon2 takes 19 MiB and tens of
/// milliseconds a hash: unbounded, 500 logins at once took 4 GiB. Hashes
/// run on one thread per core of their own (so that no more than that many
/// threads ever hold argon2's memory in their malloc arenas), one at a
/// time each; a login that would wait longer than `MAX_WAIT` for its turn
/// is answered 503 with `Retry-After` at once.
#[derive(Debug, Clone)]
pub struct Hashing {
    inner: Arc<HashingInner>,
}

#[derive(Debug)]
struct HashingInner {
    jobs: Mutex<mpsc::Sender<Box<dyn FnOnce() + Send>>>,
    threads: usize,
    /// Logins waiting for a thread or hashing now.
    queued: AtomicUsize,
    /// A moving average of one hash, in microseconds.
    average_micros: AtomicU64,
}

/// Takes a login off the queue count, however it ends.
struct InQueue<'a>(&'a AtomicUsize);

impl Drop for InQueue<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Hashing {
    const MAX_WAIT: Duration = Duration::from_secs(15);

    pub fn per_core() -> Hashing {
        Hashing::with_threads(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    fn with_threads(threads: usize) -> Hashing {
        let (tx, rx) = mpsc::channel::<Box<dyn FnOnce() + Send>>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || loop {
                    let job = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => return, // the API is shutting down
                    }
                });
            // Without any thread, every login answers 503: no hang, no crash.
            let _ = spawned;
        }
        Hashing {
            inner: Arc::new(HashingInner {
                jobs: Mutex::new(tx),
                threads,
                queued: AtomicUsize::new(0),
                average_micros: AtomicU64::new(50_000),
            }),
        }
    }

    /// Runs `f` on a hashing thread, or says how long to wait instead.
    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
        let inner = &self.inner;
        let ahead = inner.queued.fetch_add(1, Ordering::Relaxed);
        let _in_queue = InQueue(&inner.queued);
        let average = Duration::from_micros(inner.average_micros.load(Ordering::Relaxed));
        let rounds = u32::try_from(ahead / inner.threads + 1).unwrap_or(u32::MAX);
        let wait = average.saturating_mul(rounds);
        if wait > Self::MAX_WAIT {
            let retry_after_secs = u32::try_from(wait.as_secs().clamp(1, 60)).unwrap_or(60);
            return Err(AppError::Busy { retry_after_secs });
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job = Box::new(move || {
            let start = std::time::Instant::now();
            let out = f();
            let _ = tx.send((out, start.elapsed()));
        });
        if inner
            .jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(job)
            .is_err()
        {
            return Err(AppError::Busy { retry_after_secs: 1 });
        }
        let (out, took) = rx
            .await
            .map_err(|_| AppError::Internal("password hashing stopped".to_owned()))?;
        // Moving average over about ten hashes.
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let old = inner.average_micros.load(Ordering::Relaxed);
        inner.average_micros.store((old * 9 + micros) / 10, Ordering::Relaxed);
        Ok(out)
    }
}

fn random_hex(bytes: usize) -> Result<String, AppError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn hash_password(password: &str) -> Result<String, AppError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AppError::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("hashing: {e}")))
}

/// A valid hash of a password nobody has, so that an unknown user costs
/// the same time as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$1fjw6qdGLOLVGd2JcZbVwQ3Hme4j9dKRxnJ2LsHq+eM";

#[logwire::service]
impl AuthService {
    /// Creates the `admin` user on first start; does nothing afterwards.
    pub async fn ensure_admin(&self, password: &str) -> Result<bool, AppError> {
        let password = password.to_owned();
        let hash = self.hashing.run(move || hash_password(&password)).await??;
        let created = self
            .db
            .call(move |c| {
                c.execute(
                    "INSERT INTO users (username, password_hash) VALUES ('admin', ?1) ON CONFLICT (username) DO NOTHING",
                    [hash],
                )
            })
            .await?;
        if created == 1 {
            logwire::info!(self.logger, "ADMIN_CREATED", username = "admin");
        }
        Ok(created == 1)
    }

    /// Checks a username and password; returns a new session id.
    pub async fn login(&self, username: &str, password: &str) -> Result<String, AppError> {
        let name = username.to_owned();
        let row: Option<(i64, String)> = self
            .db
            .call(move |c| {
                c.query_row("SELECT id, password_hash FROM users WHERE username = ?1", [name], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
            })
            .await?;
        let stored = row.as_ref().map_or(DUMMY_HASH, |(_, h)| h.as_str()).to_owned();
        let attempt = password.to_owned();
        // Argon2 is deliberately slow: off the async threads, a core each.
        let verified = self
            .hashing
            .run(move || {
                PasswordHash::new(&stored)
                    .map(|parsed| Argon2::default().verify_password(attempt.as_bytes(), &parsed).is_ok())
                    .unwrap_or(false)
            })
            .await?;
        let Some((user_id, _)) = row.filter(|_| verified) else {
            return Err(AppError::Unauthorized);
        };
        let token = random_hex(32)?;
        let (hash, expires) = (token_hash(&token), now() + self.config.session_ttl_secs);
        self.db
            .call(move |c| {
                c.execute(
                    "INSERT INTO sessions (token_hash, user_id, expires_at) VALUES (?1, ?2, ?3)",
                    rusqlite::params![hash, user_id, expires],
                )
            })
            .await?;
        logwire::info!(self.logger, "LOGIN", user_id = user_id);
        Ok(token)
    }

    /// The user of a session id, if the session exists and has not expired.
    pub async fn validate_session(&self, session_token: &str) -> Result<User, AppError> {
        let hash = token_hash(session_token);
        let lookup = hash.clone();
        let row: Option<(String, i64, String, i64)> = self
            .db
            .call(move |c| {
                c.query_row(
                    "SELECT s.token_hash, u.id, u.username, s.expires_at
                     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1",
                    [lookup],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()
            })
            .await?;
        match row {
            Some((stored, id, username, expires)) if bool::from(stored.as_bytes().ct_eq(hash.as_bytes())) => {
                if expires <= now() {
                    self.db
                        .call(move |c| c.execute("DELETE FROM sessions WHERE token_hash = ?1", [stored]))
                        .await?;
                    return Err(AppError::Unauthorized);
                }
                Ok(User { id, username })
            }
            _ => Err(AppError::Unauthorized),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_login_that_would_wait_too_long_is_told_when_to_retry() {
        let hashing = Hashing::with_threads(1);
        // As if each hash took 10 s: one fits in the 15 s, two do not.
        hashing.inner.average_micros.store(10_000_000, Ordering::Relaxed);
        let slow = hashing.run(|| std::thread::sleep(Duration::from_millis(300)));
        let queued_second = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            hashing.run(|| ()).await
        };
        let (first, second) = tokio::join!(slow, queued_second);
        assert!(first.is_ok());
        match second {
            Err(AppError::Busy { retry_after_secs }) => assert_eq!(retry_after_secs, 20),
            other => panic!("expected Busy, got {other:?}"),
        }
        // Once the queue is empty, a login is admitted again.
        assert!(hashing.run(|| ()).await.is_ok());
    }
}
