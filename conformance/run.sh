#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs code no one here wrote: the kernel's own 6.12 sched_ext schedulers and selftests, compiled
# unmodified against scx-emu's vmlinux.h, through ./scx-emu run --scheduler bpf:FILE. Prints one
# table row per object and run. Nothing from the kernel package is kept: everything lives in a
# temporary work directory.
#
#   conformance/run.sh                 # apt-get download linux-source-6.12 into the work dir
#   KSRC_TARBALL=/path/linux-source-6.12.tar.xz conformance/run.sh
#
# Needs clang, llvm-objcopy, python3 and a packaged scx-emu (mvn -pl emulator -am package).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-$(mktemp -d /tmp/scx-conformance.XXXXXX)}
DUR=${DUR:-3s}
CLANG=${CLANG:-clang}
cd "$WORK"

if [ -z "${KSRC_TARBALL:-}" ]; then
	apt-get download linux-source-6.12 >/dev/null
	dpkg-deb -x linux-source-6.12_*.deb pkg
	KSRC_TARBALL=$(ls pkg/usr/src/linux-source-6.12.tar.xz)
fi
tar -xJf "$KSRC_TARBALL" --wildcards 'linux-source-6.12/tools/sched_ext/*' \
	'linux-source-6.12/tools/testing/selftests/sched_ext/*' 'linux-source-6.12/tools/lib/bpf/*' \
	'linux-source-6.12/include/uapi/linux/bpf.h' 'linux-source-6.12/scripts/bpf_doc.py'
K=$WORK/linux-source-6.12
mkdir -p inc/bpf obj
cp "$K"/tools/lib/bpf/bpf_{helpers,tracing,core_read,endian}.h inc/bpf/
python3 "$K/scripts/bpf_doc.py" --header --file "$K/include/uapi/linux/bpf.h" > inc/bpf/bpf_helper_defs.h

SYS=$($CLANG -v -E - </dev/null 2>&1 | sed -n '/<...> search starts/,/End of search/p' | grep '^ /' \
	| sed 's/^ /-idirafter /' | tr '\n' ' ')
build() { # src out
	# shellcheck disable=SC2086
	$CLANG -g -O2 -Wall -Wno-compare-distinct-pointer-types -Wno-incompatible-function-pointer-types \
		-D__TARGET_ARCH_x86 -mcpu=v3 -mlittle-endian -target bpf $SYS \
		-I"$ROOT/emulator/src/test/bpf/include" -I"$WORK/inc" -I"$K/tools/sched_ext/include" \
		-I"$K/tools/sched_ext/include/bpf-compat" -I"$K/tools/testing/selftests/sched_ext" \
		-c "$1" -o "$2" 2>"$2.log"
}

JAR="$ROOT/emulator/target/scx-emu.jar"
[ -f "$JAR" ] || { echo "build scx-emu first: mvn -B -ntp -q -pl emulator -am package -DskipTests" >&2; exit 2; }
emu() { (cd "$ROOT" && ./scx-emu "$@"); }

printf '%-34s %-12s %-6s %-5s %s\n' OBJECT WORKLOAD KERNEL RC RESULT
row() { printf '%-34s %-12s %-6s %-5s %s\n' "$@"; }

for s in simple qmap central flatcg; do
	o=$WORK/obj/scx_$s.bpf.o
	if ! build "$K/tools/sched_ext/scx_$s.bpf.c" "$o"; then
		row "scx_$s" - - - "compile failed: $(head -1 "$o.log")"
		continue
	fi
	for w in mixed rt-preempt; do
		for kern in 6.12 v7; do
			set +e
			out=$(emu run --scheduler "bpf:$o" --kernel $kern --cpus 4 --workload $w --duration "$DUR" \
				--no-progress 2>&1)
			rc=$?
			set -e
			res=$(echo "$out" | grep -m1 -E '^summary:' | sed 's/.*exit /exit /' || true)
			[ -n "$res" ] || res=$(echo "$out" | grep -m1 '^scx-emu:' | cut -c1-100 || true)
			[ $rc -eq 1 ] && res="$res; $(echo "$out" | grep -m1 '^EXIT:' | cut -c1-120 || true)"
			row "scx_$s" $w $kern $rc "$res"
		done
	done
done

# The selftests' user-space halves, re-expressed as expectations: how each must end when run
# through the CLI (as its C driver checks skel->data->uei.kind and exit_code), or why it cannot
# apply here.
expect() {
	case $1 in
	ddsp_bogus_dsq_fail | ddsp_vtimelocal_fail | enq_select_cpu_fails | select_cpu_dispatch_bad_dsq | \
		select_cpu_dispatch_dbl_dsp | enq_last_no_enq_fails) echo ERROR ;;
	exit) echo EXIT_CASES ;;
	hotplug) echo "n/a: needs CPU hotplug, which the emulator does not model" ;;
	prog_run) echo "n/a: needs BPF_PROG_RUN of a syscall program" ;;
	maybe_null_fail_dsp | maybe_null_fail_yld) echo "n/a: a verifier-only rejection (NULL-able argument)" ;;
	*) echo UNREG ;;
	esac
}
pass=0
fail=0
na=0
for src in "$K"/tools/testing/selftests/sched_ext/*.bpf.c; do
	n=$(basename "$src" .bpf.c)
	o=$WORK/obj/$n.bpf.o
	if ! build "$src" "$o"; then
		row "$n" - - - "FAIL compile: $(grep -m1 error "$o.log" | sed 's/.*error: //' | cut -c1-80 || true)"
		fail=$((fail + 1))
		continue
	fi
	want=$(expect "$n")
	if [ "$want" = EXIT_CASES ]; then
		# exit.c: for each exit point, scx_bpf_exit() from that op with the point as exit code
		ok=0
		for tc in 0 1 2 3 4 5; do
			set +e
			out=$(emu run --scheduler "bpf:$o" --bpf-set exit_point=$tc --kernel 6.12 --cpus 4 --workload mixed \
				--duration 2s --no-progress 2>&1)
			set -e
			echo "$out" | grep -q "SCX_EXIT_UNREG_BPF (unregistered from BPF), exit_code=$tc\$" && ok=$((ok + 1))
		done
		if [ $ok -eq 6 ]; then v=PASS; pass=$((pass + 1)); else v=FAIL; fail=$((fail + 1)); fi
		row "$n" mixed 6.12 - "$v: $ok of 6 exit points ended UNREG_BPF with their exit code"
		continue
	fi
	set +e
	out=$(emu run --scheduler "bpf:$o" --kernel 6.12 --cpus 4 --workload mixed --duration 1s --no-progress 2>&1)
	rc=$?
	set -e
	res=$(echo "$out" | grep -m1 -E '^summary:' | sed 's/.*exit /exit /' || true)
	[ -n "$res" ] || res=$(echo "$out" | grep -m1 '^scx-emu:' | cut -c1-110 || true)
	[ $rc -eq 1 ] && res="$res; $(echo "$out" | grep -m1 '^EXIT:' | cut -c1-100 || true)"
	case $want in
	n/a*) v="N/A ($want)"; na=$((na + 1)) ;;
	*)
		if echo "$res" | grep -q "^exit $want "; then v=PASS; pass=$((pass + 1)); else v="FAIL (want $want)"
			fail=$((fail + 1)); fi ;;
	esac
	row "$n" mixed 6.12 $rc "$v: $res"
done
echo "selftests: $pass passed, $fail failed, $na not applicable"
echo "work directory: $WORK"
