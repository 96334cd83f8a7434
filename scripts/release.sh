#!/usr/bin/env bash
# Builds the release archive of migsafe for one target: the binary, LICENSE, README.md,
# CHANGELOG.md, shell completions and man pages in migsafe-<version>-<target>.tar.gz, plus a
# SHA256SUMS file covering every archive in the output folder (`sha256sum -c SHA256SUMS`).
#
#   scripts/release.sh                       # release build for the host, into dist/
#   scripts/release.sh --target aarch64-apple-darwin --out dist
#   scripts/release.sh --binary target/debug/migsafe --profile dev   # package a built binary
#
# Options:
#   --target TRIPLE   Rust target to build (default: the host's, from `rustc -vV`).
#   --profile NAME    Cargo profile (default: release).
#   --binary PATH     Package this already-built binary instead of running cargo.
#   --out DIR         Output folder (default: dist).
# The archive is reproducible: sorted entries, owner 0, and every mtime set to
# SOURCE_DATE_EPOCH (default: the commit time of HEAD), when GNU tar is available.
set -euo pipefail

die() { echo "release.sh: $*" >&2; exit 2; }

root="$(cd "$(dirname "$0")/.." && pwd)"
target=""
profile="release"
binary=""
out="dist"
while [ $# -gt 0 ]; do
    case "$1" in
        --target) target="${2:?--target needs a value}"; shift 2 ;;
        --profile) profile="${2:?--profile needs a value}"; shift 2 ;;
        --binary) binary="${2:?--binary needs a value}"; shift 2 ;;
        --out) out="${2:?--out needs a value}"; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done

command -v cargo >/dev/null || die "cargo is not on PATH (install Rust: https://rustup.rs)"
host="$(rustc -vV | sed -n 's/^host: //p')"
[ -n "$target" ] || target="$host"
version="$(cd "$root" && cargo metadata --no-deps --format-version 1 --offline 2>/dev/null \
    | python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"]=="migsafe"))')" \
    || die "could not read the package version from Cargo.toml"

if [ -z "$binary" ]; then
    # The host target is built without --target, so it reuses what `cargo build` made.
    triple=(); sub=""
    if [ "$target" != "$host" ]; then triple=(--target "$target"); sub="$target/"; fi
    (cd "$root" && cargo build --locked --profile "$profile" "${triple[@]}" --bin migsafe) \
        || die "cargo build failed for $target"
    dir="$profile"; [ "$profile" = "dev" ] && dir="debug"
    binary="${CARGO_TARGET_DIR:-$root/target}/$sub$dir/migsafe"
fi
[ -x "$binary" ] || die "no executable at $binary"

# Completions and man pages come from the binary itself; a binary for another machine cannot
# run here, so MIGSAFE_GENERATOR may name a host build of the same commit.
generator="${MIGSAFE_GENERATOR:-$binary}"
"$generator" --version >/dev/null 2>&1 \
    || die "cannot run $generator to generate completions; set MIGSAFE_GENERATOR to a host build"

name="migsafe-$version-$target"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
pkg="$stage/$name"
mkdir -p "$pkg/completions" "$pkg/man/man1"
cp "$binary" "$pkg/migsafe"
chmod 0755 "$pkg/migsafe"
cp "$root/LICENSE" "$root/README.md" "$root/CHANGELOG.md" "$pkg/"
"$generator" completions bash > "$pkg/completions/migsafe.bash"
"$generator" completions zsh > "$pkg/completions/_migsafe"
"$generator" completions fish > "$pkg/completions/migsafe.fish"
"$generator" completions elvish > "$pkg/completions/migsafe.elv"
"$generator" completions powershell > "$pkg/completions/_migsafe.ps1"
"$generator" man --out-dir "$pkg/man/man1" > /dev/null
find "$pkg" -type f ! -name migsafe -exec chmod 0644 {} +

epoch="${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)}"
archive="$out/$name.tar.gz"
if tar --version 2>/dev/null | grep -q 'GNU tar'; then
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
        -C "$stage" -cf - "$name" | gzip -9n > "$archive"
else
    tar -C "$stage" -cf - "$name" | gzip -9n > "$archive"
fi

# SHA256SUMS lists every archive in the folder, so several targets can share one.
(
    cd "$out"
    if command -v sha256sum >/dev/null; then sum() { sha256sum "$@"; }
    else sum() { shasum -a 256 "$@"; }
    fi
    sum migsafe-*.tar.gz > SHA256SUMS
)
echo "$archive"
