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
}
