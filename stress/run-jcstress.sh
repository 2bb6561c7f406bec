#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs the jcstress suite in target/jcstress.jar (quick mode) and fails unless every planned test passed.
# Extra arguments go to jcstress (e.g. -t Regex). Output is also written to target/jcstress.log.
set -uo pipefail
cd "$(dirname "$0")"

flags="--add-opens java.base/jdk.internal.misc=ALL-UNNAMED"
jar=target/jcstress.jar
log=target/jcstress.log

fail() {
    echo "run-jcstress: FAILED: $*" >&2
    exit 1
}

[ -f "$jar" ] || fail "$jar not built (run: mvn -B -ntp -q package -DskipTests)"

# Run inside target/: jcstress drops its jcstress-results-*.bin.gz blob in the working directory.
# shellcheck disable=SC2086
(cd target && java $flags -jar jcstress.jar -m quick -sc false -jvmArgs "$flags" -r jcstress-results "$@") 2>&1 \
    | tee "$log"
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] || fail "jcstress exited with status $rc (see stress/$log)"

# jcstress 0.16 ConsoleReportPrinter prints, last at the end of the run:
#   (Results: N planned; M passed, F failed, S soft errs, H hard errs)
re='^\(Results: ([0-9]+) planned; ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) soft errs, ([0-9]+) hard errs\)'
summary=$(grep -E "$re" "$log" | tail -n 1)
[[ "$summary" =~ $re ]] || fail "no '(Results: N planned; M passed, ...)' line: jcstress ran nothing (see stress/$log)"
planned=${BASH_REMATCH[1]} passed=${BASH_REMATCH[2]} failed=${BASH_REMATCH[3]}
soft=${BASH_REMATCH[4]} hard=${BASH_REMATCH[5]}

[ "$planned" -gt 0 ] || fail "0 tests planned"
[ "$failed" -eq 0 ] || fail "$failed of $planned failed (FORBIDDEN outcome seen?) (see stress/$log)"
[ "$soft" -eq 0 ] || fail "$soft soft errors (skipped / API mismatch) (see stress/$log)"
[ "$hard" -eq 0 ] || fail "$hard hard errors (test error, timeout or VM error) (see stress/$log)"
[ "$passed" -eq "$planned" ] || fail "only $passed of $planned passed (see stress/$log)"
echo "run-jcstress: OK, $passed of $planned passed"
