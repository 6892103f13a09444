//! Logins and sessions: argon2 password hashes, 256-bit random session ids
//! stored only as SHA-256 hashes, compared in constant time, expiring.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::Arc;
use std::time::Duration;

use argon2::Argon2;
use logwire::Logger;
use rusqlite::OptionalExtension;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use super::AppError;
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
    db: Db,
    #[inject(from_ref)]
    config: AppConfig,
    #[inject(from_ref)]
    hashing: Hashing,
}

/// Room for password hashing: argon2 takes 19 MiB and tens of milliseconds
/// a hash, so unbounded logins could exhaust memory. At most one hash per
/// core runs at once; a login that would wait longer than `MAX_WAIT` is
/// answered 503 with `Retry-After` instead.
#[derive(Debug, Clone)]
pub struct Hashing {
    permits: Arc<Semaphore>,
}

impl Hashing {
    const MAX_WAIT: Duration = Duration::from_secs(10);

    pub fn per_core() -> Hashing {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Hashing {
            permits: Arc::new(Semaphore::new(cores)),
        }
    }

    /// Runs `f` on the blocking pool once a slot is free.
    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
        let permit = match tokio::time::timeout(Self::MAX_WAIT, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            // Closed never happens (nobody closes it); timed out is load.
            Ok(Err(_)) | Err(_) => return Err(AppError::Busy { retry_after_secs: 2 }),
        };
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            f()
        })
        .await
        .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
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
