//! The whole static review of a small migrations folder, rendered in every format.
#![no_main]

libfuzzer_sys::fuzz_target!(init: migsafe_fuzz::crash_on_migsafe_panics(), |data: &[u8]| {
    migsafe_fuzz::checks::review_input(data);
});
