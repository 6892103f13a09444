//! Operations from a browser session: the admin changes what a process
//! logs for a while, as `logwire level set` does from a shell.

use std::time::Duration;

use logwire::{LevelFilter, Logger};

use super::auth_service::User;
use super::error::AppError;

/// Who may change levels: the admin user only.
const ADMIN: &str = "admin";

#[logwire::service]
pub struct OpsService {
    logger: Logger,
}

#[logwire::service]
impl OpsService {
    /// Puts `level` in force for the loggers called `logger` (`*`: all) for
    /// `minutes` (1 to 1440), through `{LOG_ROOT}/.logwire-levels`: every
    /// process with a file logger there applies it within 2 s. Returns the
    /// time it ends, RFC 3339.
    pub fn set_log_level(&self, user: &User, logger: &str, level: &str, minutes: u64) -> Result<String, AppError> {
        if user.username != ADMIN {
            return Err(AppError::Forbidden("only the admin changes log levels".to_owned()));
        }
        let Ok(parsed) = level.parse::<LevelFilter>() else {
            return Err(AppError::BadRequest(format!(
                "level must be one of trace, debug, info, warn, error, off; got {level:?}"
            )));
        };
        if logger.is_empty() || logger.contains(char::is_whitespace) {
            return Err(AppError::BadRequest(format!("{logger:?} is not a logger name")));
        }
        if !(1..=24 * 60).contains(&minutes) {
            return Err(AppError::BadRequest("minutes must be from 1 to 1440".to_owned()));
        }
        let root = logwire::log_root();
        let set = logwire::levels::set(&root, &[(logger, parsed)], Duration::from_secs(minutes * 60))
            .map_err(|e| AppError::Internal(format!("cannot write {}: {e}", logwire::levels::path(&root).display())))?;
        let until = set
            .iter()
            .find(|o| o.logger == logger)
            .map(|o| o.until)
            .unwrap_or_else(std::time::SystemTime::now);
        let until = humantime::format_rfc3339_millis(until).to_string();
        logwire::info!(
            self.logger,
            "LOG_LEVEL_SET",
            logger = logger,
            level = level,
            until = until.as_str(),
            by = user.username.as_str()
        );
        Ok(until)
    }
}
