# shellcheck shell=bash
# What the fresh-root test scripts share (tests/deb/run.sh, tests/dist/run.sh): the counters and
# their closing line, the cleanup of fresh roots, and the cached base tarballs they unpack.
#
#   fresh_begin NAME KEEP_VAR   call first: NAME prefixes the summary lines and the roots'
#                               names; when $KEEP_VAR is 1 the roots and work dir are kept
#   check NAME COMMAND...       one test; the command's output is shown only when it fails
#   ok / fail TEXT              one passed / failed test
#   finish                      the closing lines ("NAME: N passed, M failed") and exit
#   base_tarball CODENAME       the cached `mmdebstrap --variant=apt` tarball of CODENAME
#   fresh_root CODENAME         sets $root to a new directory to unpack a fresh root in
#                               (removed at exit; not in $(...): $roots must see it)
#
# Sourced after scripts/root-lib.sh; callers use $work, $cache, $pids (background servers to
# stop at exit) and $roots.

fresh_begin() {
    fresh_name=$1 fresh_keep=$2
    started=$SECONDS
    passed=0 failed=0
    pids=()
    roots=()
    work=$(mktemp -d -t "php-smtp-${fresh_name}test.XXXXXX")
    cache=$(root_cache_dir)
    trap fresh_cleanup EXIT
    trap 'exit 130' INT TERM
    # Fresh roots an interrupted run (SIGKILL) left behind; a run takes minutes, not hours.
    local stale
    while IFS= read -r stale; do
        echo "removing $stale (left by an interrupted run)"
        root_remove "$stale" || true
    done < <(find "$cache" -mindepth 1 -maxdepth 1 -type d -name "$fresh_name-*-fresh.*" -mmin +360)
}

# shellcheck disable=SC2317,SC2329  # called by the EXIT trap
fresh_cleanup() {
    local p r
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [[ ${!fresh_keep:-0} == 1 ]]; then
        echo "$fresh_name: kept ${roots[*]} $work"
    else
        for r in "${roots[@]}"; do root_remove "$r" || true; done
        rm -rf "$work"
    fi
}

finish() {
    echo "$fresh_name: took $((SECONDS - started)) s"
    echo "$fresh_name: $passed passed, $failed failed"
    ((failed == 0))
    exit
}

ok() { echo "ok   $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }

check() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then
        ok "$name"
    else
        fail "$name"
        [[ -z $out ]] || printf '%s\n' "$out" | tail -n 30 | sed 's/^/     /'
    fi
}

# Made once per release and shared by both scripts; one maker at a time (flock).
base_tarball() {
    local codename=$1 tar=$cache/$1-base.tar t0=$SECONDS
    (
        flock 9
        [[ -f $tar && -s $tar ]] && exit 0
        root_remove "$tar" && root_remove "$tar.new" || exit 1
        echo "making $tar with mmdebstrap (first time only)" >&2
        root_mmdebstrap "$codename" "$tar.new" --format=tar >&2 || exit 1
        mv "$tar.new" "$tar"
        echo "made $tar in $((SECONDS - t0)) s" >&2
    ) 9>"$cache/$codename-base.lock" || return 1
    echo "$tar"
}

fresh_root() {
    root=$(mktemp -d -p "$cache" "$fresh_name-$1-fresh.XXXXXX") || return 1
    roots+=("$root")
}
