use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use rfm_perf_core::{get_performance_tracker, track_performance};

fn assert_send<T: Send>(_: &T) {}

fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

#[track_performance("async.load")]
async fn load(n: u32) -> Result<u32, String> {
    if n == 0 {
        return Err("empty".into());
    }
    let doubled = async { n * 2 }.await;
    Ok(doubled)
}

struct Loader;

impl Loader {
    #[track_performance("async.method")]
    async fn run(&self, n: u32) -> u32 {
        load(n).await.unwrap_or(0)
    }
}

fn main() {
    let fut = load(2);
    assert_send(&fut);
    assert_eq!(block_on(fut), Ok(4));
    assert_eq!(block_on(load(0)), Err("empty".into()));
    let loader = Loader;
    let fut = loader.run(5);
    assert_send(&fut);
    assert_eq!(block_on(fut), 10);
    let calls = |n: &str| get_performance_tracker().scope_stat(n).map_or(0, |s| s.calls);
    assert_eq!(calls("async.load"), 3);
    assert_eq!(calls("async.method"), 1);
}
