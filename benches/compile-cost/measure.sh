#!/usr/bin/env bash
# Compile cost of 1,000 call sites: velo vs tracing.
#
# Generates the two crates (generate.py; velo taken from a snapshot of the
# last commit, so that edits made meanwhile do not rebuild it), builds each
# once to fetch and compile dependencies, then for each crate and each
# profile (debug, release), RUNS times (default 3):
#   clean  cargo clean (the crate's own target dir), then cargo build:
#          everything, dependencies included
#   crate  cargo clean -p <crate>, then cargo build: only the crate with the
#          1,000 call sites, from scratch (macro expansion, type check, codegen)
#   touch  touch src/main.rs, then cargo build: the edit-compile cycle (debug
#          reuses its incremental cache; release has none)
# and the size of the binaries (release unstripped and stripped, debug).
#
# Before each timing it waits (up to LOAD_WAIT seconds, default 240) until no
# rustc of anyone else runs and the 1-minute load is below LOAD_MAX (default
# 0.8). During the build it samples every second for rustc processes that
# are not its own; a timing during which one ran is repeated (up to TRIES
# times in all, default 3), and the column `foreign` of the kept one says how
# many it saw.
#
# Output, appended to (delete the files to start over):
# target/compile-cost/results.tsv (every timing, repeated ones included,
# `kept` = 1 for the one counted) and sizes.tsv; build logs in logs/; a
# summary on stdout. RESULTS.md says what the numbers were.
#
# Usage: benches/compile-cost/measure.sh [velo|tracing ...]
# Environment: RUNS, TRIES, LOAD_MAX, LOAD_WAIT as above; PROFILES, the
# profiles to time (default "debug release"; sizes are taken of both); VELO_REV, the
# commit of velo to measure (default HEAD); SITES (default
# 1000) and OUT (default target/compile-cost) for other sizes, e.g. the
# baseline without call sites:
#   SITES=0 OUT=target/compile-cost/empty RUNS=2 benches/compile-cost/measure.sh
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=$(mkdir -p "${OUT:-$ROOT/target/compile-cost}" && cd "${OUT:-$ROOT/target/compile-cost}" && pwd)
SITES=${SITES:-1000}
RUNS=${RUNS:-3}
read -r -a PROFILES <<<"${PROFILES:-debug release}"
TRIES=${TRIES:-3}
LOAD_MAX=${LOAD_MAX:-0.8}
LOAD_WAIT=${LOAD_WAIT:-240}
CRATES=("$@")
[[ ${#CRATES[@]} -gt 0 ]] || CRATES=(velo tracing)

# velo and velo-macros as of VELO_REV, in a two-member workspace of their own
# (they inherit version, edition and lints from the workspace root).
COMMIT=$(git -C "$ROOT" rev-parse --short "${VELO_REV:-HEAD}")
SNAP="$OUT/velo-src"
rm -rf "$SNAP"
mkdir -p "$SNAP"
git -C "$ROOT" archive "$COMMIT" Cargo.toml velo velo-macros | tar -x -C "$SNAP"
sed -i -e 's/^members = .*/members = ["velo", "velo-macros"]/' -e '/^default-members/d' "$SNAP/Cargo.toml"

python3 "$HERE/generate.py" --out "$OUT" --velo "$SNAP/velo" --sites "$SITES"
mkdir -p "$OUT/logs"
TSV="$OUT/results.tsv"
SIZES="$OUT/sizes.tsv"
[[ -f $TSV ]] || printf 'crate\tkind\tprofile\trun\ttry\twall_s\tcpu_s\tmaxrss_mb\tload1_before\tload1_after\tforeign\twaited_s\tkept\n' >"$TSV"
[[ -f $SIZES ]] || printf 'crate\twhat\tbytes\n' >"$SIZES"

load1() { cut -d' ' -f1 /proc/loadavg; }

# The number of rustc processes that are not grandchildren of process $1
# (ours run as /usr/bin/time -> cargo -> rustc); with 0, every rustc.
foreign_rustc() {
    local n=0 p pp gpp
    for p in $(pgrep -x rustc || true); do
        pp=$(awk '/^PPid:/{print $2}' "/proc/$p/status" 2>/dev/null) || continue
        gpp=$(awk '/^PPid:/{print $2}' "/proc/$pp/status" 2>/dev/null) || gpp=
        [[ $gpp == "$1" ]] || n=$((n + 1))
    done
    echo "$n"
}

# Waits until the machine is quiet, or LOAD_WAIT seconds have passed;
# prints how long it waited.
wait_quiet() {
    local waited=0
    while ((waited < LOAD_WAIT)); do
        if [[ $(foreign_rustc 0) == 0 ]] && awk -v l="$(load1)" -v m="$LOAD_MAX" 'BEGIN{exit !(l < m)}'; then
            break
        fi
        sleep 5
        waited=$((waited + 5))
    done
    echo "$waited"
}

cargo_in() { # CRATE cargo args...
    local crate=$1
    shift
    (cd "$OUT/$crate" && CARGO_TARGET_DIR="$OUT/$crate/target" cargo "$@")
}

# prepare CRATE KIND PROFILE: the state each kind of timing starts from.
prepare() {
    local crate=$1 kind=$2 profile=$3 rel=()
    [[ $profile == release ]] && rel=(--release)
    case $kind in
    clean) cargo_in "$crate" clean -q ;;
    crate)
        cargo_in "$crate" build -q $OFFLINE "${rel[@]}"
        cargo_in "$crate" clean -q -p "compile-cost-$crate" "${rel[@]}"
        ;;
    touch)
        cargo_in "$crate" build -q $OFFLINE "${rel[@]}"
        touch "$OUT/$crate/src/main.rs"
        ;;
    esac
}

# measure CRATE KIND PROFILE RUN: prepares and times one build, again if
# another build ran meanwhile.
measure() {
    local crate=$1 kind=$2 profile=$3 run=$4 rel=() try log waited before after pid max n
    local wall user sys rss kept
    [[ $profile == release ]] && rel=(--release)
    for try in $(seq 1 "$TRIES"); do
        log="$OUT/logs/$crate-$kind-$profile-$run-$try.log"
        prepare "$crate" "$kind" "$profile"
        waited=$(wait_quiet)
        before=$(load1)
        (cd "$OUT/$crate" && CARGO_TARGET_DIR="$OUT/$crate/target" exec /usr/bin/time -f '%e %U %S %M' \
            -o "$log.time" cargo build $OFFLINE "${rel[@]}" >"$log" 2>&1) &
        pid=$! # /usr/bin/time: the subshell exec'd it
        max=0
        while kill -0 "$pid" 2>/dev/null; do
            n=$(foreign_rustc "$pid")
            ((n > max)) && max=$n
            sleep 1
        done
        wait "$pid" || { echo "build failed, see $log" >&2; cat "$log" >&2; exit 1; }
        after=$(load1)
        read -r wall user sys rss <<<"$(tail -1 "$log.time")"
        kept=0
        [[ $max == 0 || $try == "$TRIES" ]] && kept=1
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n' "$crate" "$kind" "$profile" "$run" "$try" \
            "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN{print u + s}')" $((rss / 1024)) \
            "$before" "$after" "$max" "$waited" "$kept" | tee -a "$TSV"
        ((kept)) && break
    done
}

OFFLINE=--offline
cargo_in "${CRATES[0]}" fetch --offline >/dev/null 2>&1 || OFFLINE=

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"
echo "$(rustc --version); $(cargo --version)"
echo "velo at $COMMIT (snapshot in $SNAP)"

for crate in "${CRATES[@]}"; do
    # Warm-up: fetch and compile everything once, both profiles.
    cargo_in "$crate" build $OFFLINE -q
    cargo_in "$crate" build $OFFLINE -q --release
    for run in $(seq 1 "$RUNS"); do
        for profile in "${PROFILES[@]}"; do
            for kind in clean crate touch; do
                measure "$crate" "$kind" "$profile" "$run"
            done
        done
    done
    cargo_in "$crate" build $OFFLINE -q
    dir="$OUT/$crate/target"
    bin="$dir/release/compile-cost-$crate"
    strip -o "$bin.stripped" "$bin"
    {
        printf '%s\trelease\t%d\n' "$crate" "$(stat -c %s "$bin")"
        printf '%s\trelease-stripped\t%d\n' "$crate" "$(stat -c %s "$bin.stripped")"
        printf '%s\tdebug\t%d\n' "$crate" "$(stat -c %s "$dir/debug/compile-cost-$crate")"
        # The code of the 20 functions that hold the call sites.
        nm -S "$bin" | python3 -c 'import re, sys
print(sys.argv[1] + "\trelease.call-site-fns\t" + str(sum(int(f[1], 16) for f in map(str.split, sys.stdin)
      if len(f) == 4 and re.search(r"compile_cost_[a-z]+3f[0-9][0-9]17h[0-9a-f]{16}E$", f[3]))))' "$crate"
        size -A "$bin" | awk -v c="$crate" '$1 ~ /^\.(text|rodata|data\.rel\.ro|eh_frame)$/ {print c "\trelease" $1 "\t" $2}'
    } | tee -a "$SIZES"
done

echo
echo "wall s / cpu s of the kept timings, by run:"
awk -F'\t' 'NR > 1 && $13 == 1 {k = $1 " " $2 " " $3; v[k] = v[k] sprintf("  %s/%s", $6, $7)} END {for (k in v) print k ":" v[k]}' "$TSV" | sort
