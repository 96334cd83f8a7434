//! Throughput of the check every plain-SQL dump passes before psql sees it (issue #9:
//! `evidence::dump_scan`). Run with `cargo bench --bench dump_scan`; no server needed.
//!
//! The dump is generated in pg_dump's shape: DDL, a function body, and `MIGSAFE_BENCH_ROWS`
//! (default 2,000,000) COPY rows with tabs, `\N` and backslash escapes, about 100 bytes
//! each; once plain and once gzip'd, scanned from memory so that disk speed does not count.

use migsafe::evidence::dump_scan;
use std::io::Write as _;
use std::time::{Duration, Instant};

fn dump(rows: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows * 100 + 4096);
    out.extend_from_slice(
        b"--\n-- PostgreSQL database dump\n--\n\n\\restrict a1B2c3D4e5F6\n\n\
          SET statement_timeout = 0;\nSET standard_conforming_strings = on;\n\
          SELECT pg_catalog.set_config('search_path', '', false);\n\
          CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql\n\
              AS $$BEGIN NEW.updated_at := now(); RETURN NEW; END$$;\n\
          CREATE TABLE public.orders (id bigint NOT NULL, note text, address jsonb);\n\
          COPY public.orders (id, note, address) FROM stdin;\n",
    );
    for i in 0..rows {
        let note = if i % 7 == 0 {
            "\\N"
        } else {
            "C:\\\\temp\\\\x\tline\\nbreak"
        };
        writeln!(
            out,
            "{i}\t{note}\t{{\"city\": \"Springfield\", \"zip\": \"{:05}\"}}",
            i % 99999
        )
        .ok();
    }
    out.extend_from_slice(
        b"\\.\n\nALTER TABLE ONLY public.orders ADD CONSTRAINT orders_pkey PRIMARY KEY (id);\n\
          \\unrestrict a1B2c3D4e5F6\n",
    );
    out
}

fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let rows = std::env::var("MIGSAFE_BENCH_ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(2_000_000);
    let plain = dump(rows);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).expect("gzip in memory");
    let gz = gz.finish().expect("gzip in memory");
    let mb = plain.len() as f64 / 1e6;
    let took = best_of(3, || {
        let problems = dump_scan::scan(plain.as_slice()).expect("scan");
        assert!(problems.is_empty(), "{problems:?}");
    });
    println!(
        "dump scan, plain: {rows} COPY rows, {mb:.1} MB; best of 3: {:.3} s = {:.0} MB/s",
        took.as_secs_f64(),
        mb / took.as_secs_f64()
    );
    let took = best_of(3, || {
        let reader = flate2::read::MultiGzDecoder::new(gz.as_slice());
        let problems = dump_scan::scan(reader).expect("scan");
        assert!(problems.is_empty(), "{problems:?}");
    });
    println!(
        "dump scan, gzip:  {:.1} MB compressed; best of 3: {:.3} s = {:.0} MB/s of SQL",
        gz.len() as f64 / 1e6,
        took.as_secs_f64(),
        mb / took.as_secs_f64()
    );
}
