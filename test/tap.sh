# shellcheck shell=sh
# shellcheck disable=SC2154  # $bin and $tap_name are set by the test that sources this
# tap.sh - what the shell tests share, sourced after they set $bin (the program `expect` runs)
# and $tap_name: a private temporary directory $tmp (removed at exit), the TAP lines ok /
# not_ok / skip, expect (runs $bin and checks its exit status and output) and tap_done (the
# plan, and the exit status for the test driver).
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hidp-${tap_name:-test}.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# A cross build's `make check` sets HIDP_RUN_PREFIX (the emulator, through libtool's execute mode,
# which finds the real program behind an uninstalled program's wrapper script): $bin becomes a
# script in $tmp/run that runs it that way, so every call, and the scripts given --hidp "$bin",
# work unchanged.
if [ -n "${HIDP_RUN_PREFIX:-}" ] && [ -x "${bin:-}" ]; then
    case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
    mkdir "$tmp/run"
    printf '#!/bin/sh\nexec %s "%s" "$@"\n' "$HIDP_RUN_PREFIX" "$bin" >"$tmp/run/${bin##*/}"
    chmod +x "$tmp/run/${bin##*/}"
    bin=$tmp/run/${bin##*/}
fi
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

# expect STATUS PATTERN DESCRIPTION -- ARGS...: runs $bin ARGS and checks the exit status and
# that stdout+stderr match PATTERN; for status 1 (a failure), also that stderr is one line.
expect() {
    want=$1 pat=$2 what=$3
    shift 4
    "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    text=$(cat "$tmp/err" "$tmp/out")
    if [ "$got" -ne "$want" ]; then
        not_ok "$what" "exit status $got, want $want" "output: $text"
    elif ! printf '%s' "$text" | grep -q -- "$pat"; then
        not_ok "$what" "output does not match '$pat'" "output: $text"
    elif [ "$want" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
        not_ok "$what" "stderr has $(wc -l <"$tmp/err") lines, want 1" "stderr: $(cat "$tmp/err")"
    else
        ok "$what"
    fi
}

tap_done() {
    echo "1..$n"
    [ "$failed" -eq 0 ]
}
