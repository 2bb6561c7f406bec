#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Rebuilds the committed BPF test objects from their C sources with clang (-mcpu=v3; debug info
# stripped to BTF). Run from anywhere; with --check, rebuilds into a temporary directory and
# reports objects whose instructions differ from the committed ones.
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-clang}
OBJCOPY=${OBJCOPY:-llvm-objcopy}
OUT=.
if [ "${1:-}" = "--check" ]; then
	OUT=$(mktemp -d)
fi
status=0
for src in *.bpf.c; do
	obj="$OUT/${src%.c}.o"
	"$CLANG" -target bpf -mcpu=v3 -mlittle-endian -O2 -g -Wall -Wno-unused-function \
		-fdebug-prefix-map="$(pwd)"=. -c "$src" -o "$obj"
	"$OBJCOPY" --strip-debug "$obj"
	if [ "$OUT" != . ] && ! cmp -s "$obj" "${src%.c}.o"; then
		echo "differs: ${src%.c}.o"
		status=1
	fi
done
[ "$OUT" = . ] || rm -rf "$OUT"
exit $status
