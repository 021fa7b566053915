use std::fmt::Display;

use rfm_perf_core::{get_performance_tracker, track_performance};

#[track_performance("generic.describe")]
fn describe<T: Display, const N: usize>(items: [T; N]) -> String
where
    T: Clone,
{
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

#[track_performance("generic.lifetime")]
fn first<'a>(s: &'a str, _other: &str) -> &'a str {
    &s[..1]
}

#[track_performance("generic.impl_trait")]
fn total(it: impl IntoIterator<Item = u32>) -> u32 {
    it.into_iter().sum()
}

fn main() {
    assert_eq!(describe([1, 2, 3]), "1,2,3");
    assert_eq!(describe(["a"]), "a");
    assert_eq!(first("xyz", "q"), "x");
    assert_eq!(total(vec![1, 2, 3]), 6);
    let calls = |n: &str| get_performance_tracker().scope_stat(n).map_or(0, |s| s.calls);
    assert_eq!(calls("generic.describe"), 2);
    assert_eq!(calls("generic.lifetime"), 1);
    assert_eq!(calls("generic.impl_trait"), 1);
}
