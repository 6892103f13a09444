//! The app follows logwire's rules where no macro looks: every struct with
//! a logger is a service, services' impls are logged, loggers are built in
//! `main` only, handlers take their services as arguments.

#[test]
fn services_follow_logwire() {
    logwire_lint::check(env!("CARGO_MANIFEST_DIR")).assert_clean();
}
