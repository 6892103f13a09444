//! logwire's rules over a whole crate, for CI: what no macro sees.
//!
//! `#[logwire::service]` checks only the items it is put on. This crate
//! reads every file of a crate (its roots, then every file reached through
//! `mod` declarations) and reports:
//!
//! | code | finding |
//! | --- | --- |
//! | LW001 | a struct with a `logwire::Logger` field (through any import or alias) that has neither `#[logwire::service]` nor `#[derive(logwire::Injectable)]` (nor, for a worker context, `#[derive(logwire::Context)]`) |
//! | LW002 | an inherent `impl` block of a service type without `#[logwire::service]` (its methods log nothing) |
//! | LW003 | a logger built (`file_logger`, `console_logger`, `Logger::builder`, `Logger::capture`, through any alias, also inside macro calls) outside `main`, a binary's top level and tests |
//! | LW004 | `println!`, `eprintln!`, `print!`, `eprint!` or `dbg!` in a service's methods |
//! | LW005 | an axum handler (a function passed to `get`, `post`, … in `.route(..)`) that builds a service with `new` |
//! | LW006 | `#[log(record(x))]` where the crate derives `Debug` for `x`'s type and that type has a secret-named field (`password`, `token`, …) |
//! | LW000 | a suppression comment without a reason, or one that suppresses nothing |
//!
//! `// logwire-lint: allow(LW003) <reason>` on the line before a finding
//! silences it; the reason is required.
//!
//! As a test, so that `cargo test` holds a crate to the rules:
//!
//! ```no_run
//! #[test]
//! fn services_follow_logwire() {
//!     logwire_lint::check(env!("CARGO_MANIFEST_DIR")).assert_clean();
//! }
//! ```
//!
//! Built on `syn` alone: it runs on stable in any CI. It sees names, not
//! types, so it follows imports and aliases within a file; clippy's
//! `disallowed-methods` is the type-aware complement.

mod check;
mod finding;
mod names;
mod report;
mod rules;
mod walk;

pub use check::check;
pub use finding::{Code, Finding, ParseError, Report};
pub use report::Format;
