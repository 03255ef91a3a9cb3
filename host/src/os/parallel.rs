//! Running independent work on every item at once, one thread each.

/// `f` applied to every item in its own thread; results come back in the items' order. A
/// thread that panics gives an `Err` with the panic's message in its place, so a result can
/// never be attributed to the wrong item.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<Result<R, Panicked>> {
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items.iter().map(|item| s.spawn(move || f(item))).collect();
        handles
            .into_iter()
            .map(|h| h.join().map_err(|panic| panic_text(panic.as_ref())))
            .collect()
    })
}

/// The same, on at most one thread per core (the caller's among them), each taking the next
/// item when it is done with one: for CPU-bound work, where more threads than cores only add
/// the cost of starting them and contention between them.
pub fn map_on_cores<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
) -> Vec<Result<R, Panicked>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = cores.min(items.len());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(item) = items.get(i) else { break done };
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(item)))
                .map_err(|panic| panic_text(panic.as_ref()));
            done.push((i, result));
        }
    };
    let mut results: Vec<Option<Result<R, Panicked>>> = items.iter().map(|_| None).collect();
    std::thread::scope(|s| {
        let helpers: Vec<_> = (1..workers).map(|_| s.spawn(work)).collect();
        let mut all = work();
        for helper in helpers {
            // A helper cannot panic outside `catch_unwind`; were it to, its items stay unset.
            all.extend(helper.join().unwrap_or_default());
        }
        for (i, result) in all {
            results[i] = Some(result);
        }
    });
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(Panicked("a worker thread ended early".into()))))
        .collect()
}

super::reason!(
    /// A worker thread panicked: its message.
    Panicked
);

fn panic_text(panic: &(dyn std::any::Any + Send)) -> Panicked {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into());
    Panicked(format!("a worker thread panicked: {text}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_order_and_turns_panics_into_errors() {
        let out = super::map(&[1, 2, 3], |n| {
            assert!(*n != 2, "two is not allowed");
            n * 10
        });
        assert_eq!(out[0], Ok(10));
        assert!(
            out[1]
                .as_ref()
                .is_err_and(|e| e.0.contains("two is not allowed"))
        );
        assert_eq!(out[2], Ok(30));
    }

    #[test]
    fn on_cores_keeps_order_and_turns_panics_into_errors() {
        let items: Vec<u32> = (0..20).collect();
        let out = super::map_on_cores(&items, |n| {
            assert!(*n != 7, "seven is not allowed");
            n * 10
        });
        assert_eq!(out.len(), 20);
        for (n, r) in items.iter().zip(&out) {
            match n {
                7 => assert!(
                    r.as_ref()
                        .is_err_and(|e| e.0.contains("seven is not allowed"))
                ),
                _ => assert_eq!(r, &Ok(n * 10)),
            }
        }
        assert!(super::map_on_cores(&[] as &[u32], |n| *n).is_empty());
    }
}
