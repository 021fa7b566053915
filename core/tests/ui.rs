//! Compile-time behaviour of `#[track_performance]` and `perf_scope!`: what compiles (and runs
//! correctly, each program in its own process) and the errors for what must not compile.
//!
//! Regenerate the expected `.stderr` files with `TRYBUILD=overwrite cargo test -p rfm_perf_core --test ui`
//! and review them.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
