#!/usr/bin/env bash
# Builds and runs migsafe's coverage-guided fuzz targets on stable Rust, no cargo-fuzz needed.
#
#   fuzz/run.sh parse 300       fuzz the splitter/parser for 300 seconds (default 60)
#   fuzz/run.sh review 300      fuzz the whole static review
#   fuzz/run.sh replay [TARGET] run every committed corpus input once (-runs=0), all targets
#   fuzz/run.sh build           build the targets only
#
# New inputs go to fuzz/work/<target> (ignored by git), crashes to fuzz/artifacts/<target>/.
# Replay one crash with: fuzz/target/<host>/release/<target> fuzz/artifacts/<target>/crash-...
# Extra arguments after the seconds are passed to libFuzzer (e.g. -max_len=..., -seed=...).
set -euo pipefail
cd "$(dirname "$0")"

targets=(parse review)
host="$(rustc -vV | sed -n 's/^host: //p')"

# What cargo-fuzz passes with `--sanitizer none`: libFuzzer's inline 8-bit coverage counters,
# the PC table it needs to print `cov:`, and comparison tracing so that it learns keywords
# and quote delimiters. `--cfg fuzzing` is what libfuzzer-sys and its users test for.
flags=(
    -Cpasses=sancov-module
    -Cllvm-args=-sanitizer-coverage-level=4
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters
    -Cllvm-args=-sanitizer-coverage-pc-table
    -Cllvm-args=-sanitizer-coverage-trace-compares
    --cfg fuzzing
)
# RUSTFLAGS replaces the target's rustflags in ~/.cargo/config.toml, so keep a faster linker
# when the machine has one.
if command -v mold >/dev/null 2>&1; then
    flags+=(-Clink-arg=-fuse-ld=mold)
fi

build() {
    # migsafe's build.rs watches git's HEAD for `--version`; a fixed commit keeps every commit
    # from rebuilding the whole instrumented tree (minutes on two cores).
    export MIGSAFE_COMMIT=fuzz
    # --target keeps the instrumentation off build scripts and proc macros, which run on the
    # host and would not link against libFuzzer's counters.
    RUSTFLAGS="${flags[*]}" cargo build --release --locked --bins --target "$host"
}

binary() {
    echo "target/$host/release/$1"
}

known() {
    local t
    for t in "${targets[@]}"; do
        [ "$t" = "$1" ] && return 0
    done
    echo "Unknown fuzz target '$1'; choose one of: ${targets[*]}" >&2
    exit 2
}

case "${1:-}" in
    build)
        build
        ;;
    replay)
        build
        if [ -n "${2:-}" ]; then known "$2"; fi
        for target in ${2:-${targets[@]}}; do
            echo "Replaying fuzz/corpus/$target"
            "$(binary "$target")" -runs=0 -rss_limit_mb=2048 -timeout=30 "corpus/$target"
        done
        ;;
    "" | -h | --help)
        sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
        ;;
    *)
        target="$1"
        known "$target"
        seconds="${2:-60}"
        shift $(( $# >= 2 ? 2 : 1 ))
        build
        mkdir -p "work/$target" "artifacts/$target"
        # One process on one core, at low priority: the machine is shared.
        nice -n 10 "$(binary "$target")" \
            -max_total_time="$seconds" \
            -max_len=16384 \
            -timeout=10 \
            -rss_limit_mb=2048 \
            -print_final_stats=1 \
            -dict=sql.dict \
            -artifact_prefix="artifacts/$target/" \
            "$@" \
            "work/$target" "corpus/$target"
        ;;
esac
