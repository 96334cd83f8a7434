//! The fuzz targets' shared code: the properties checked on every input (`checks`, also
//! replayed over the committed corpus by `tests/fuzz_corpus.rs`) and the panic policy.

pub mod checks;

/// Makes every panic a crash except those raised inside sqlparser: migsafe parses each
/// statement under `catch_unwind` (src/parse/convert.rs) and reports a sqlparser panic as an
/// unparsed statement, so such a panic is handled behaviour, not a bug of migsafe's. libFuzzer's
/// own hook aborts on every panic, which would stop the run at the first of them.
pub fn crash_on_migsafe_panics() {
    let libfuzzer_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_sqlparser = info
            .location()
            .is_some_and(|l| l.file().contains("sqlparser"));
        if in_sqlparser {
            return;
        }
        libfuzzer_hook(info);
        std::process::abort();
    }));
}
