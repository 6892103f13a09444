//! Every compile-time check of `#[service]`, `#[derive(Injectable)]` and
//! `#[derive(Context)]`,
//! with the error a user sees committed beside each case.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/service/pass/*.rs");
    t.pass("ui/injectable/pass/*.rs");
    t.pass("ui/context/pass/*.rs");
    t.compile_fail("ui/service/fail/*.rs");
    t.compile_fail("ui/injectable/fail/*.rs");
    t.compile_fail("ui/context/fail/*.rs");
}
