#!/usr/bin/env bash
# Runs pytest RUNS times in a row while every core also runs a busy loop (issue 10's check that
# the suite never flakes on a loaded machine), and stops at the first failed run.
#   bash benchmarks/under_load.sh                    # the whole suite, three times
#   RUNS=1 ICP_TUI_SIGNAL_ROUNDS=13 bash benchmarks/under_load.sh tests/hostile/test_signals.py
# Run it from the clone, in the virtualenv of the README's test command.
set -uo pipefail
runs=${RUNS:-3}
loops=()
for _ in $(seq "$(nproc)"); do
  (while :; do :; done) &
  loops+=($!)
done
trap 'kill "${loops[@]}" 2>/dev/null' EXIT
echo "$(nproc) busy loops; $(git rev-parse --short HEAD 2>/dev/null); load: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq "$runs"); do
  start=$SECONDS
  pytest -q -p no:cacheprovider "$@" | tail -n 3
  status=${PIPESTATUS[0]}
  echo "run $run of $runs: exit $status in $((SECONDS - start)) s; load: $(cut -d' ' -f1-3 /proc/loadavg)"
  [ "$status" -eq 0 ] || exit "$status"
done
