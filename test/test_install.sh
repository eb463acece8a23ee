#!/bin/sh
# shellcheck disable=SC2015  # "ok ... || not_ok": ok only echoes, so it cannot fail
# test_install.sh - what a board gets: `make install DESTDIR=...` from this build tree stages the
# library, hidp.h, hidp.pc, the hidp tool and the man pages hidp.1 and libhidp.3; the staged
# tool runs; the library exports only hidp_* symbols; the man pages render without warnings;
# libhidp(3)'s example builds against the staged header and library through pkg-config and runs
# on a test model; `make uninstall` removes every file again. Run by `make check` (which sets
# HIDP_MAKE and HIDP_BUILDDIR), cross builds included: there the staged programs run under
# $HIDP_RUN_PREFIX.
set -u
src=${HIDP_SRCDIR:-.}
build=${HIDP_BUILDDIR:-.}
bin=
tap_name=install
. "$src/test/tap.sh"

if [ -z "${HIDP_MAKE:-}" ] || [ ! -f "$build/Makefile" ]; then
    echo "1..0 # SKIP run by make check (needs HIDP_MAKE and a configured HIDP_BUILDDIR)"
    exit 0
fi
stage=$tmp/stage

# make in the build tree. The make running the tests passes its jobserver and flags in
# MAKEFLAGS; these are separate, serial runs.
mk() {
    # shellcheck disable=SC2086  # HIDP_MAKE is $(MAKE), a command
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL $HIDP_MAKE -C "$build" "$@"
}
if mk install DESTDIR="$stage" >"$tmp/install.log" 2>&1; then
    ok "make install DESTDIR=..."
else
    not_ok "make install DESTDIR=..." "$(tail -20 "$tmp/install.log")"
    tap_done
    exit
fi

# found NAME PATTERN: the one staged path matching PATTERN (find -path), into $found.
found() {
    found=$(find "$stage" -path "$2" | head -1)
    [ -n "$found" ] && ok "installs $1: ${found#"$stage"}" || not_ok "installs $1" \
        "nothing matches $2 under $stage:" "$(cd "$stage" && find . | head -40)"
}
found "the shared library" "*/lib*/libhidp.so.0"
lib=$found
found "the header" "*/include/hidp.h"
found "the pkg-config file" "*/pkgconfig/hidp.pc"
pc=$found
found "the tool" "*/bin/hidp"
tool=$found
found "hidp(1)" "*/man1/hidp.1"
man1=$found
found "libhidp(3)" "*/man3/libhidp.3"
man3=$found
libdir=${lib%/*}

# The staged tool, with the staged library (under emulation when cross-compiling).
run_tool() {
    LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} ${HIDP_RUN_PREFIX:-} "$tool" "$@"
}
if [ -n "$tool" ] && [ -n "$lib" ]; then
    version=$(run_tool --version 2>&1)
    case $version in
    "hidp "[0-9]*) ok "the staged tool runs: $version" ;;
    *) not_ok "the staged tool runs" "output: $version" ;;
    esac
    run_tool info "$src/test/data/tiny_cnn.onnx" >"$tmp/info" 2>&1 && grep -q MFLOPs "$tmp/info" &&
        ok "the staged tool describes a model" || not_ok "the staged tool describes a model" \
        "$(cat "$tmp/info")"
else
    skip "the staged tool runs" "not installed"
    skip "the staged tool describes a model" "not installed"
fi

# Only the public API is exported (Makefile.am: -export-symbols-regex).
if [ -z "$lib" ]; then
    skip "exports only hidp_* symbols" "no library"
elif ! nm -D --defined-only "$lib" >"$tmp/syms" 2>/dev/null; then
    skip "exports only hidp_* symbols" "nm cannot read $lib"
else
    awk '$2 ~ /^[TDBR]$/ && $3 !~ /^hidp_[a-z]/' "$tmp/syms" >"$tmp/extra"
    [ ! -s "$tmp/extra" ] && grep -q ' T hidp_model_run$' "$tmp/syms" &&
        ok "exports only hidp_* symbols ($(grep -c ' T hidp_' "$tmp/syms") functions)" ||
        not_ok "exports only hidp_* symbols" "$(head -20 "$tmp/extra")"
fi

# The man pages render with every groff warning on.
for page in "$man1" "$man3"; do
    if [ -z "$page" ]; then
        skip "man page renders without warnings" "not installed"
    elif ! command -v groff >/dev/null 2>&1; then
        skip "${page##*/} renders without warnings" "groff is not installed"
    elif groff -man -ww -z "$page" >"$tmp/groff" 2>&1 && [ ! -s "$tmp/groff" ]; then
        ok "${page##*/} renders without warnings"
    else
        not_ok "${page##*/} renders without warnings" "$(head -10 "$tmp/groff")"
    fi
done

# libhidp(3)'s example, built as a user would: the staged hidp.pc, with its prefix moved into
# the stage. The same compiler and sanitizer flags as this build (HIDP_CC, HIDP_TEST_CFLAGS).
pkg=${HIDP_PKG_CONFIG:-pkg-config}
if [ -z "$man3" ] || [ -z "$pc" ] || [ -z "${HIDP_CC:-}" ]; then
    skip "libhidp(3)'s example builds with pkg-config" "needs the man page, hidp.pc and HIDP_CC"
    skip "libhidp(3)'s example runs" "not built"
elif ! command -v "${pkg%% *}" >/dev/null 2>&1; then
    skip "libhidp(3)'s example builds with pkg-config" "$pkg is not installed"
    skip "libhidp(3)'s example runs" "not built"
else
    awk '/^\.SH EXAMPLES/ { e = 1 } e && /^\.RE/ { exit } e && p { print } e && /^\.RS/ { p = 1 }' \
        "$man3" | sed 's/\\e/\\/g' >"$tmp/example.c"
    prefix=$(sed -n 's/^prefix=//p' "$pc")
    flags=$(PKG_CONFIG_PATH=${pc%/*}${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH} \
        $pkg --define-variable=prefix="$stage$prefix" --cflags --libs hidp 2>"$tmp/pkg.err")
    # shellcheck disable=SC2086  # the compiler and the flags are word lists
    if [ -n "$flags" ] && $HIDP_CC ${HIDP_TEST_CFLAGS:-} -o "$tmp/example" "$tmp/example.c" $flags \
        >"$tmp/cc.log" 2>&1; then
        ok "libhidp(3)'s example builds with pkg-config ($flags)"
        LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} ${HIDP_RUN_PREFIX:-} \
            "$tmp/example" "$src/test/data/tiny_cnn.onnx" >"$tmp/example.out" 2>&1 &&
            grep -q "outputs, the first" "$tmp/example.out" &&
            ok "libhidp(3)'s example runs: $(cat "$tmp/example.out")" ||
            not_ok "libhidp(3)'s example runs" "$(cat "$tmp/example.out")"
    else
        not_ok "libhidp(3)'s example builds with pkg-config" "flags: $flags" \
            "$(cat "$tmp/pkg.err" "$tmp/cc.log" | head -20)"
        skip "libhidp(3)'s example runs" "not built"
    fi
fi

if mk uninstall DESTDIR="$stage" >"$tmp/uninstall.log" 2>&1 && [ -z "$(find "$stage" ! -type d)" ]; then
    ok "make uninstall removes every file"
else
    not_ok "make uninstall removes every file" "$(find "$stage" ! -type d | head)" \
        "$(tail -5 "$tmp/uninstall.log")"
fi
tap_done
