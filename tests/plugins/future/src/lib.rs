//! A component built for `bkt:subsystem@2.0.0`, a contract this bkt does not speak: the host
//! must refuse it with a message naming the contract it expects.

#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

wit_bindgen::generate!({
    world: "plugin",
    path: "wit",
});

struct Future;

impl exports::bkt::subsystem::subsystem::Guest for Future {
    fn info() -> String {
        "from the future".into()
    }
}

#[cfg(target_arch = "wasm32")]
export!(Future);
