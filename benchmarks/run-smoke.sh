#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# JMH smoke run: runs every benchmark in target/benchmarks.jar once, minimally (no timing is asserted).
# Fails if JMH fails or runs no benchmark. Extra arguments go to JMH (e.g. a benchmark regex).
# The flags go in -jvmArgsPrepend: a command-line -jvmArgsAppend would replace the @Fork(jvmArgsAppend)
# that CpuPreemptFastPathBench uses to select its variants.
set -uo pipefail
cd "$(dirname "$0")"

flags="--add-opens java.base/jdk.internal.misc=ALL-UNNAMED"
jar=target/benchmarks.jar
log=target/smoke.log

fail() {
    echo "run-smoke: FAILED: $*" >&2
    exit 1
}

[ -f "$jar" ] || fail "$jar not built (run: mvn -B -ntp -q package -DskipTests)"

# shellcheck disable=SC2086
java $flags -jar "$jar" -f 1 -wi 0 -i 1 -w 100ms -r 100ms -foe true \
    -jvmArgsPrepend "$flags" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

[ "$rc" -eq 0 ] || fail "JMH exited with status $rc (see benchmarks/$log)"
grep -q '^# Run complete' "$log" || fail "no '# Run complete' line: JMH ran no benchmark (see benchmarks/$log)"
if grep -q '<failure>' "$log"; then fail "a benchmark failed (<failure> in benchmarks/$log)"; fi
if grep -q 'ERROR' "$log"; then fail "JMH reported an ERROR (see benchmarks/$log)"; fi
n=$(grep -c '^# Benchmark: ' "$log")
[ "$n" -gt 0 ] || fail "JMH ran zero benchmarks"
echo "run-smoke: OK, $n benchmark run(s) completed"
