//! Splitter and parser: any bytes as one migration file.
#![no_main]

libfuzzer_sys::fuzz_target!(init: migsafe_fuzz::crash_on_migsafe_panics(), |data: &[u8]| {
    migsafe_fuzz::checks::parse_input(data);
});
