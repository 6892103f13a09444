//! The one way the app learns it should stop: SIGTERM (systemd, `kill`) or
//! SIGINT (Ctrl-C).

use tokio::signal::unix::{signal, Signal, SignalKind};

/// Both stop signals, watched from the moment it is made: a signal that
/// arrives before anyone awaits [`Shutdown::recv`] is not lost, and does not
/// kill the process with the default action.
#[derive(Debug)]
pub struct Shutdown {
    term: Signal,
    int: Signal,
}

impl Shutdown {
    pub fn watch() -> std::io::Result<Shutdown> {
        Ok(Shutdown {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// Waits for the first stop signal; returns its name.
    pub async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}
