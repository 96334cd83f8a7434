#!/usr/bin/env bash
# Runs `migsafe check` for the GitHub Action and records where the reports are.
#
# Environment (action.yml sets it from its inputs):
#   INPUT_PATHS          migration files or folders, separated by spaces or newlines
#                        (empty: `paths` of migsafe.toml)
#   INPUT_FAIL_ON        error | warning | info | never
#   INPUT_CHANGED_SINCE  a git ref; `auto` = origin/<base branch> on pull requests; empty or
#                        `none` = review everything
#   INPUT_ARGS           more arguments for `migsafe check`, split on spaces
#   INPUT_OUTPUT_DIR     where the reports go (default: $RUNNER_TEMP/migsafe)
#   MIGSAFE_DATABASE_URL the copy to inspect; read by migsafe from the environment, never put
#                        on a command line
# Writes exit-code, markdown, sarif and json to $GITHUB_OUTPUT. Exits 0 when the review ran
# (the action's last step applies fail-on), 2 when it could not run.
set -euo pipefail

die() { echo "::error title=migsafe::$*"; exit 2; }

if [ -n "${MIGSAFE_DATABASE_URL:-}" ]; then
    echo "::add-mask::$MIGSAFE_DATABASE_URL"
fi
command -v migsafe >/dev/null || die "migsafe is not on PATH (the install step failed?)"

fail_on="${INPUT_FAIL_ON:-error}"
case "$fail_on" in error|warning|info|never) ;; *) die "fail-on must be error, warning, info or never, not '$fail_on'" ;; esac
out="${INPUT_OUTPUT_DIR:-${RUNNER_TEMP:-/tmp}/migsafe}"
mkdir -p "$out"

args=(check)
# Paths are split on whitespace, as the input documents; globbing stays off.
set -f
for path in ${INPUT_PATHS:-}; do args+=("$path"); done
changed="${INPUT_CHANGED_SINCE:-auto}"
if [ "$changed" = "auto" ]; then
    changed=""
    if [ -n "${GITHUB_BASE_REF:-}" ]; then changed="origin/$GITHUB_BASE_REF"; fi
fi
if [ -n "$changed" ] && [ "$changed" != "none" ]; then args+=(--changed-since "$changed"); fi
args+=(--fail-on "$fail_on" --format table
       --report "markdown=$out/migsafe.md" --report "sarif=$out/migsafe.sarif"
       --report "json=$out/migsafe.json")
for extra in ${INPUT_ARGS:-}; do args+=("$extra"); done
set +f

echo "migsafe ${args[*]}"
code=0
migsafe "${args[@]}" || code=$?

if [ -n "${GITHUB_OUTPUT:-}" ]; then
    {
        echo "exit-code=$code"
        for kind in markdown:md sarif:sarif json:json; do
            file="$out/migsafe.${kind#*:}"
            if [ -f "$file" ]; then echo "${kind%%:*}=$file"; else echo "${kind%%:*}="; fi
        done
    } >> "$GITHUB_OUTPUT"
fi
if [ "$code" -ge 2 ]; then
    die "the review could not run (exit $code); see the message above"
fi
exit 0
