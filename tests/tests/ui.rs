//! Every compile-time check of `#[service]`, `#[derive(Injectable)]`,
//! `#[derive(Context)]` and the event macros,
//! with the error a user sees committed beside each case.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/service/pass/*.rs");
    t.pass("ui/injectable/pass/*.rs");
    t.pass("ui/context/pass/*.rs");
    t.pass("ui/events/pass/*.rs");
    t.compile_fail("ui/service/fail/*.rs");
    t.compile_fail("ui/injectable/fail/*.rs");
    t.compile_fail("ui/context/fail/*.rs");
    t.compile_fail("ui/events/fail/*.rs");
}
