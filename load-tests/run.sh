#!/usr/bin/env bash
# Runs one load-test scenario against the dispatcher, then the baseline, under identical conditions, prints a table
# and writes load-tests/results/SCENARIO.json. Builds what it needs first: the product jar with the root ./mvnw and
# this harness (its own Maven project). Exit status 1 if any event was lost.
#
#   load-tests/run.sh SCENARIO [--duration SECONDS] [--rate EVENTS_PER_S] [--events BACKLOG] [--systems dispatcher,baseline]
#
# LOAD_SKIP_BUILD=1 reuses what is already built; LOAD_SKIP_PRODUCT_BUILD=1 builds only the harness (the CI smoke
# test runs inside the product's own build, which has just packaged the jar); LOAD_RESULTS=DIR writes
# the JSON elsewhere (exploratory runs); --dispatcher-env K=V,K=V passes tuning variables to the dispatcher only.
# LOAD_JFR=1 records a JFR profile of each system under test (target/runs/.../SYSTEM.jfr).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
if [[ $# -lt 1 ]]; then
  echo "usage: $0 SCENARIO [--duration SECONDS] [--rate N] [--events N] [--systems dispatcher,baseline]" >&2
  echo "scenarios: smoke throughput latency slow-receivers isolation backlog" >&2
  exit 2
fi
mvn_flags=(-B -q)
if [[ "${LOAD_OFFLINE:-}" == 1 ]]; then mvn_flags+=(-o); fi
if [[ "${LOAD_SKIP_BUILD:-}" != 1 && "${LOAD_SKIP_PRODUCT_BUILD:-}" != 1 ]]; then
  (cd "$root" && ./mvnw "${mvn_flags[@]}" package -DskipTests)
fi
if [[ "${LOAD_SKIP_BUILD:-}" != 1 || ! -f "$here/target/classpath.txt" ]]; then
  (cd "$here" && "$root/mvnw" "${mvn_flags[@]}" package -DskipTests)
fi
cd "$here"
# The harness JVM hosts the producer and the 20 receivers; the systems under test get their own flags (LoadTest).
exec java -Xms512m -Xmx1g -XX:+UseG1GC -cp "target/classes:$(cat target/classpath.txt)" dev.webhooks.loadtest.LoadTest "$@" --jar "$root/target/webhook-dispatcher.jar" \
  --results "${LOAD_RESULTS:-$here/results}"
