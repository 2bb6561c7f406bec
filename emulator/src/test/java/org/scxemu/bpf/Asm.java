// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.bpf;

import java.util.ArrayList;
import java.util.List;

/** A tiny BPF assembler for the instruction-level tests: raw encodings, as the ISA defines them. */
final class Asm {
    final List<Long> insns = new ArrayList<>();

    static long insn(int op, int dst, int src, int off, int imm) {
        return (op & 0xffL) | ((long) (dst & 0xf) << 8) | ((long) (src & 0xf) << 12) | ((off & 0xffffL) << 16)
                | ((long) imm << 32);
    }

    Asm raw(int op, int dst, int src, int off, int imm) {
        insns.add(insn(op, dst, src, off, imm));
        return this;
    }

    Asm ldImm64(int dst, long v) {
        raw(0x18, dst, 0, 0, (int) v);
        return raw(0, 0, 0, 0, (int) (v >>> 32));
    }

    Asm mov64(int dst, int imm) {
        return raw(0xb7, dst, 0, 0, imm);
    }

    Asm mov64Reg(int dst, int src) {
        return raw(0xbf, dst, src, 0, 0);
    }

    Asm exit() {
        return raw(0x95, 0, 0, 0, 0);
    }

    long[] build() {
        long[] a = new long[insns.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = insns.get(i);
        }
        return a;
    }

    /** Runs the program with r1..r3 and returns r0. */
    long run(long r1, long r2, long r3) {
        Vm vm = new Vm(new BpfObject(build()), 1);
        Vm.VmThread t = vm.thread();
        long base = vm.enter(t);
        try {
            return vm.run(t, base, 0, r1, r2, r3, 0, 0);
        } finally {
            vm.leave(t);
        }
    }
}
