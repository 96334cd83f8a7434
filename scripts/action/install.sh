#!/usr/bin/env bash
# Installs migsafe for the GitHub Action without compiling: the release archive for this
# runner (checked against the release's SHA256SUMS), else the `migsafe-cli` wheel from PyPI.
#
# Environment (action.yml sets it from its inputs):
#   MIGSAFE_VERSION        version to install; empty = the version of the action's Cargo.toml
#   MIGSAFE_INSTALL        auto (archive, then pip) | release | pip
#   MIGSAFE_DOWNLOAD_URL   folder holding the archives and SHA256SUMS
#                          (default: the action repository's release v<version>)
#   MIGSAFE_REPOSITORY     owner/name of the action repository (github.action_repository)
#   RUNNER_TEMP, GITHUB_PATH, GITHUB_OUTPUT   as GitHub Actions sets them
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
die() { echo "::error title=migsafe install::$*"; exit 2; }

version="${MIGSAFE_VERSION:-}"
version="${version#v}"
if [ -z "$version" ]; then
    version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)"
fi
[ -n "$version" ] || die "no version given and none in $root/Cargo.toml"
method="${MIGSAFE_INSTALL:-auto}"
case "$method" in auto|release|pip) ;; *) die "install must be auto, release or pip, not '$method'" ;; esac
: "${RUNNER_TEMP:?RUNNER_TEMP is unset: run inside GitHub Actions or set it}"
: "${GITHUB_PATH:?GITHUB_PATH is unset: run inside GitHub Actions or set it}"

target() {
    local os arch
    case "$(uname -s)" in
        Linux) os="unknown-linux-gnu" ;;
        Darwin) os="apple-darwin" ;;
        *) return 1 ;;
    esac
    case "$(uname -m)" in
        x86_64|amd64) arch="x86_64" ;;
        aarch64|arm64) arch="aarch64" ;;
        *) return 1 ;;
    esac
    echo "$arch-$os"
}

sha256() {
    if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1
    else shasum -a 256 "$1" | cut -d' ' -f1
    fi
}

from_release() {
    local triple base name dir expected actual
    triple="$(target)" || { echo "migsafe: no release archive for $(uname -sm)"; return 1; }
    base="${MIGSAFE_DOWNLOAD_URL:-https://github.com/${MIGSAFE_REPOSITORY:-}/releases/download/v$version}"
    name="migsafe-$version-$triple"
    dir="$RUNNER_TEMP/migsafe-install-$version"
    mkdir -p "$dir"
    echo "migsafe: downloading $base/$name.tar.gz"
    curl -fsSL --retry 3 -o "$dir/$name.tar.gz" "$base/$name.tar.gz" || return 1
    curl -fsSL --retry 3 -o "$dir/SHA256SUMS" "$base/SHA256SUMS" || return 1
    expected="$(awk -v f="$name.tar.gz" '$2 == f || $2 == "*" f { print $1 }' "$dir/SHA256SUMS")"
    actual="$(sha256 "$dir/$name.tar.gz")"
    if [ -z "$expected" ] || [ "$expected" != "$actual" ]; then
        # A bad checksum is never retried through another channel: it is an error.
        die "checksum mismatch for $name.tar.gz (expected '${expected:-none listed}', got $actual)"
    fi
    tar -xzf "$dir/$name.tar.gz" -C "$dir"
    bin_dir="$dir/$name"
}

from_pip() {
    local venv="$RUNNER_TEMP/migsafe-venv-$version"
    command -v python3 >/dev/null || die "python3 is not on PATH; use install: release"
    python3 -m venv "$venv" || die "python3 -m venv failed"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "migsafe-cli==$version" \
        || die "pip install migsafe-cli==$version failed"
    bin_dir="$venv/bin"
}

bin_dir=""
case "$method" in
    release) from_release || die "could not download the release archive of migsafe $version" ;;
    pip) from_pip ;;
    auto) from_release || { echo "migsafe: falling back to pip"; from_pip; } ;;
esac
[ -x "$bin_dir/migsafe" ] || die "no migsafe executable in $bin_dir"
echo "$bin_dir" >> "$GITHUB_PATH"
"$bin_dir/migsafe" --version
if [ -n "${GITHUB_OUTPUT:-}" ]; then
    echo "path=$bin_dir/migsafe" >> "$GITHUB_OUTPUT"
fi
