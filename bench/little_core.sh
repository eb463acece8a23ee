#!/bin/sh
# little_core.sh - the local level on a board with one "little" core made for real (issue 4):
# a cgroup-v1 cpu group gets QUOTA% of every PERIOD, and bench/little_core puts every thread
# that runs on PU 1 in it; PU 0 and PU 1 are described as two kinds of core with hwloc's XML
# (test/data/topo/this2.xml). It prints the calibrated speeds and, for each model, the latency
# on the big core alone, the little core alone, both with equal shares, both with calibrated
# shares (fixed, or taken back: the default), and the ideal; then the same ideal of each core's
# time while the other runs a model of its own (what two busy cores cost each other, splitting
# aside), and at each round's start how long a cache line takes between the two PUs (this VM
# switches between two values, and the figures with it). Needs root, cgroup v1's cpu
# controller and two CPUs; cleans up after itself (the group, the temporary calibration cache).
#
# usage: bench/little_core.sh [-q QUOTA_PERCENT] [-p PERIOD_US] [-n RUNS] [-r ROUNDS]
#                             [-P SETTING[,SETTING]] [-e NAME=VALUE] [MODEL...]
#        (default: -q 40 -p 10000 -n 40 -r 20 resnet50 mobilenet_v2; -q 100 leaves the two
#        cores equal, which shows what splitting layers costs without a quota)
# Each setting gets RUNS runs in all, in ROUNDS blocks of at least 100 ms taken in turn with the
# other settings'; the ratios are also given round by round (paired), which this VM's phases of
# fast and slow seconds move less than medians over all runs. -P profiles those settings'
# layers after the timed rounds, in turn (tuned, fixed, prepared, or big: the big core alone;
# wall, big and little core's time per layer; the little core's CPU time per run beside its
# slices' wall time). -e times the default once more with the variable
# NAME set to VALUE while it is prepared and tuned (a knob the engine reads at prepare), in the
# same rounds, and prints the two paired: an A/B under the quota.
set -eu
quota=40 period=10000 runs=40 rounds=20
while getopts "q:p:n:r:P:e:h" opt; do
    case $opt in
    q) quota=$OPTARG ;;
    p) period=$OPTARG ;;
    n) runs=$OPTARG ;;
    r) rounds=$OPTARG ;;
    P) for s in $(echo "$OPTARG" | tr , ' '); do
           case $s in tuned | fixed | prepared | big) ;; *) echo "little_core.sh: -P takes tuned, fixed, prepared or big (comma-separated)" >&2; exit 2 ;; esac
       done
       export LITTLE_CORE_PROFILE=$OPTARG ;;
    e) case $OPTARG in ?*=*) ;; *) echo "little_core.sh: -e NAME=VALUE" >&2; exit 2 ;; esac
       export LITTLE_CORE_AB=$OPTARG ;;
    h) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- resnet50 mobilenet_v2
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
prog=${LITTLE_CORE:-$here/little_core}
[ -x "$prog" ] || { echo "little_core.sh: $prog not built (make)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "little_core.sh: needs root (cgroups)" >&2; exit 1; }
cpu=/sys/fs/cgroup/cpu
[ -w "$cpu/tasks" ] || { echo "little_core.sh: no writable cgroup v1 cpu controller at $cpu" >&2; exit 1; }
group=$cpu/hidp-little-$$
cache=$(mktemp -d "${TMPDIR:-/tmp}/hidp-little.XXXXXX")
cleanup() {
    if [ -d "$group" ]; then
        while read -r t; do echo "$t" >"$cpu/tasks" 2>/dev/null || true; done <"$group/tasks"
        rmdir "$group" 2>/dev/null || true
    fi
    rm -rf "$cache"
}
trap cleanup EXIT INT TERM
[ $((period * quota / 100)) -ge 1000 ] || {
    echo "little_core.sh: the quota would be $((period * quota / 100)) us; Linux takes 1000 us or more (raise -p or -q)" >&2
    exit 2
}
mkdir "$group"
echo "$period" >"$group/cpu.cfs_period_us"
echo $((period * quota / 100)) >"$group/cpu.cfs_quota_us"
echo "little core: PU 1 limited to $quota% ($((period * quota / 100)) us of every $period us)"
export HWLOC_XMLFILE="$src/test/data/topo/this2.xml" HWLOC_THISSYSTEM=1 XDG_CACHE_HOME="$cache"
export OPENBLAS_NUM_THREADS=1
for model in "$@"; do
    timeout 600 "$prog" "$group" "$model" "$runs" "$rounds"
done
