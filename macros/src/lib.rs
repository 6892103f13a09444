//! Procedural macros of [logwire](https://docs.rs/logwire): `#[service]` and
//! `#[derive(Injectable)]`. Use them through the `logwire` crate, which
//! re-exports them.
