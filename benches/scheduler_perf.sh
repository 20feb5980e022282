#!/usr/bin/env bash
# Upstream kube-scheduler's scheduler_perf shapes through `placer simulate`: pods/s next to
# upstream's published thresholds. See benches/README-perf.md.
#
#   benches/scheduler_perf.sh                      # every case, upstream's 5000-node parameters
#   CASES="TopologySpreading PreemptionBasic" benches/scheduler_perf.sh
#   MEASURE=1000 benches/scheduler_perf.sh         # fewer measured pods (quicker)
#   NODES=500 INIT=500 MEASURE=1000 benches/scheduler_perf.sh
#
# Environment: CASES (default: all), NODES, INIT, MEASURE (overrides of the upstream
# parameters), WORK (inputs and outputs; default target/scheduler_perf), TIMEOUT (seconds per
# case, default 1800), SKIP_BUILD=1 (use the binaries already built).
#
# pods/s = measured pods / wall seconds of the whole `placer simulate` process (parsing the
# cluster included), as /usr/bin/time reports it. Upstream's threshold is the minimum average
# scheduling throughput its CI accepts for the same workload (kube-scheduler against a real
# API server, so the two numbers are comparable only as orders of magnitude).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
TIMEOUT=${TIMEOUT:-1800}

if [[ "${SKIP_BUILD:-}" != 1 ]]; then
    cargo build --release --bin placer
    cargo build --release -p placer-benches --bin perf_shapes
fi
TARGET=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)
PLACER="$TARGET/release/placer"
SHAPES="$TARGET/release/perf_shapes"
WORK=${WORK:-$TARGET/scheduler_perf}
mkdir -p "$WORK"

# case  workload  nodes  init  measure  threshold  measure_namespace
mapfile -t ROWS < <("$SHAPES" list | tail -n +2)
if [[ -n "${CASES:-}" && "${CASES}" != all ]]; then
    SELECTED=()
    for want in $CASES; do
        found=
        for row in "${ROWS[@]}"; do
            name=${row%%$'\t'*}
            if [[ "${name,,}" == "${want,,}" ]]; then SELECTED+=("$row"); found=1; fi
        done
        [[ -n "$found" ]] || { echo "unknown case: $want" >&2; exit 2; }
    done
    ROWS=("${SELECTED[@]}")
fi

# "h:mm:ss" or "m:ss.ss" -> seconds
to_seconds() {
    awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }' <<<"$1"
}

RESULTS="$WORK/results.tsv"
printf 'case\tworkload\tnodes\tinit\tmeasured\tscheduled\tunschedulable\twall_s\tpods_per_s\tthreshold\tratio\tmax_rss_mib\tstatus\n' >"$RESULTS"

for row in "${ROWS[@]}"; do
    IFS=$'\t' read -r name workload nodes init measure threshold measure_ns <<<"$row"
    nodes=${NODES:-$nodes}
    init=${INIT:-$init}
    measure=${MEASURE:-$measure}
    dir="$WORK/$name"
    mkdir -p "$dir"
    echo "== $name ($workload): $nodes nodes, $init init pods, $measure measured" >&2
    "$SHAPES" "$name" --nodes "$nodes" --init "$init" --measure "$measure" --out "$dir"

    status=ok
    set +e
    timeout "$TIMEOUT" /usr/bin/time -v -o "$dir/time.txt" \
        "$PLACER" simulate --cluster "$dir/cluster.yaml" --output json \
        >"$dir/out.json" 2>"$dir/stderr.txt"
    rc=$?
    set -e
    if [[ $rc == 124 ]]; then
        status="timeout ${TIMEOUT}s"
    elif [[ $rc != 0 ]]; then
        status="exit $rc (see $dir/stderr.txt)"
    fi

    wall=NA rss=NA scheduled=NA unsched=NA rate=NA ratio=NA
    if [[ -s "$dir/time.txt" ]]; then
        wall=$(to_seconds "$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$dir/time.txt")")
        rss=$(awk '/Maximum resident set size/ { printf "%.0f", $NF / 1024 }' "$dir/time.txt")
    fi
    if [[ $status == ok ]]; then
        # Measured pods only: PreemptionBasic's evicted init pods come back pending too.
        read -r scheduled unsched < <(jq -r --arg ns "$measure_ns/" '
            [.pods[] | select(.pod | startswith($ns))]
            | "\(map(select(.status == "scheduled")) | length) \(map(select(.status != "scheduled")) | length)"' \
            "$dir/out.json")
        rate=$(awk -v m="$measure" -v w="$wall" 'BEGIN { printf "%.1f", (w > 0 ? m / w : 0) }')
        if [[ $threshold != - ]]; then
            ratio=$(awk -v r="$rate" -v t="$threshold" 'BEGIN { printf "%.2f", r / t }')
        fi
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$name" "$workload" "$nodes" "$init" "$measure" "$scheduled" "$unsched" "$wall" \
        "$rate" "$threshold" "$ratio" "$rss" "$status" >>"$RESULTS"
    echo "   wall ${wall}s, scheduled $scheduled of $measure, $status" >&2
done

echo
awk -F'\t' '{
    printf "%-35s %8s %9s %13s %8s %9s %9s %7s %8s  %s\n",
        $1, $5, $6, $7, $8, $9, $10, $11, $12, $13
}' "$RESULTS" | sed '1s/measured/measured/'
echo
echo "results: ${RESULTS#"$ROOT"/}"
