// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.bpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The interpreter per instruction class, against the BPF ISA's definitions: ALU and ALU64 with
 * immediate and register operands, division and modulo (unsigned, signed at v4, by zero), moves
 * with sign extension, byte swaps, every jump condition in 64 and 32 bits, gotol, loads and stores
 * of every size, sign-extending loads, every atomic, bpf-to-bpf calls, and the run-time checks.
 */
class VmInstructionTest {
    private static final int ALU64 = 0x07;
    private static final int ALU = 0x04;
    private static final int X = 0x08;

    /** r0 = a; r0 OP= b (register form); exit. */
    private static long alu(int cls, int code, long a, long b, int off) {
        return new Asm().ldImm64(0, a).ldImm64(1, b).raw(cls | X | code, 0, 1, off, 0).exit().run(0, 0, 0);
    }

    /** r0 = a; r0 OP= imm; exit. */
    private static long aluImm(int cls, int code, long a, int imm) {
        return new Asm().ldImm64(0, a).raw(cls | code, 0, 0, 0, imm).exit().run(0, 0, 0);
    }

    @Test
    void alu64() {
        assertEquals(7, alu(ALU64, 0x00, 3, 4, 0));
        assertEquals(-1, alu(ALU64, 0x10, 3, 4, 0));
        assertEquals(12, alu(ALU64, 0x20, 3, 4, 0));
        assertEquals(Long.divideUnsigned(-8L, 3), alu(ALU64, 0x30, -8, 3, 0));
        assertEquals(0xf0 | 0x0f, alu(ALU64, 0x40, 0xf0, 0x0f, 0));
        assertEquals(0x10, alu(ALU64, 0x50, 0xf0, 0x1f, 0));
        assertEquals(1L << 40, alu(ALU64, 0x60, 1, 40, 0));
        assertEquals(-8L >>> 1, alu(ALU64, 0x70, -8, 1, 0));
        assertEquals(-5, aluImm(ALU64, 0x80, 5, 0));
        assertEquals(Long.remainderUnsigned(-8L, 3), alu(ALU64, 0x90, -8, 3, 0));
        assertEquals(0xff ^ 0x0f, alu(ALU64, 0xa0, 0xff, 0x0f, 0));
        assertEquals(-4, alu(ALU64, 0xc0, -8, 1, 0));
        assertEquals(-5L, aluImm(ALU64, 0xb0, 0, -5)); // mov imm sign-extends
        assertEquals(1L << 3, alu(ALU64, 0x60, 1, 64 + 3, 0)); // shift count masked to 6 bits
    }

    @Test
    void alu32ZeroExtends() {
        assertEquals(0, alu(ALU, 0x00, 0xffffffffL, 1, 0));
        assertEquals(0xffffffffL, alu(ALU, 0x10, 0x1_0000_0000L, 1, 0));
        assertEquals(0xfffffffbL, aluImm(ALU, 0xb0, 0x1234_0000_0000L, -5));
        assertEquals(0xfffffffcL, alu(ALU, 0xc0, 0xfffffff8L, 1, 0)); // arsh on the low 32 bits
        assertEquals(1L << 3, alu(ALU, 0x60, 1, 32 + 3, 0)); // shift count masked to 5 bits
        assertEquals(Integer.toUnsignedLong(Integer.divideUnsigned(-8, 3)), alu(ALU, 0x30, -8, 3, 0));
    }

    @Test
    void divisionAndModuloByZeroAsTheIsaDefines() {
        assertEquals(0, alu(ALU64, 0x30, 42, 0, 0));
        assertEquals(42, alu(ALU64, 0x90, 42, 0, 0));
        assertEquals(0, alu(ALU, 0x30, 42, 0, 0));
        assertEquals(42, alu(ALU, 0x90, 0x7_0000_002aL, 0, 0)); // 32-bit mod keeps the low half
        // an immediate zero divisor is what the verifier refuses: a fault here
        BpfFault f = assertThrows(BpfFault.class, () -> aluImm(ALU64, 0x30, 1, 0));
        assertTrue(f.getMessage().contains("division by zero at insn 2"), f.getMessage());
    }

    @Test
    void signedDivisionAndModuloV4() {
        assertEquals(-2, alu(ALU64, 0x30, -7, 3, 1));
        assertEquals(-1, alu(ALU64, 0x90, -7, 3, 1));
        assertEquals(Long.MIN_VALUE, alu(ALU64, 0x30, Long.MIN_VALUE, -1, 1));
        assertEquals(0, alu(ALU64, 0x90, Long.MIN_VALUE, -1, 1));
        assertEquals(0xfffffffeL, alu(ALU, 0x30, -7, 3, 1));
    }

    @Test
    void movsxV4() {
        assertEquals(-1, alu(ALU64, 0xb0, 0, 0xff, 8));
        assertEquals(-2, alu(ALU64, 0xb0, 0, 0xfffe, 16));
        assertEquals(-3, alu(ALU64, 0xb0, 0, 0xffff_fffdL, 32));
        assertEquals(0xffffffffL, alu(ALU, 0xb0, 0, 0xff, 8));
    }

    @Test
    void byteSwaps() {
        long v = 0x1122334455667788L;
        assertEquals(0x7788, new Asm().ldImm64(0, v).raw(0xd4, 0, 0, 0, 16).exit().run(0, 0, 0));
        assertEquals(0x8877, new Asm().ldImm64(0, v).raw(0xdc, 0, 0, 0, 16).exit().run(0, 0, 0));
        assertEquals(0x88776655L, new Asm().ldImm64(0, v).raw(0xdc, 0, 0, 0, 32).exit().run(0, 0, 0));
        assertEquals(Long.reverseBytes(v), new Asm().ldImm64(0, v).raw(0xdc, 0, 0, 0, 64).exit().run(0, 0, 0));
        assertEquals(Long.reverseBytes(v), new Asm().ldImm64(0, v).raw(0xd7, 0, 0, 0, 64).exit().run(0, 0, 0));
        assertEquals(0x8877, new Asm().ldImm64(0, v).raw(0xd7, 0, 0, 0, 16).exit().run(0, 0, 0));
    }

    /** 1 if "if r1 COND r2" is taken, else 0. */
    private static long jmp(int cls, int code, long a, long b) {
        return new Asm().mov64(0, 1).raw(cls | X | code, 1, 2, 1, 0).mov64(0, 0).exit().run(a, b, 0);
    }

    @Test
    void jumps64() {
        int j = 0x05;
        assertEquals(1, jmp(j, 0x10, 5, 5));
        assertEquals(1, jmp(j, 0x20, -1, 1)); // unsigned >
        assertEquals(0, jmp(j, 0x60, -1, 1)); // signed >
        assertEquals(1, jmp(j, 0x30, 1, 1));
        assertEquals(1, jmp(j, 0x40, 6, 2));
        assertEquals(0, jmp(j, 0x40, 4, 2));
        assertEquals(1, jmp(j, 0x50, 4, 2));
        assertEquals(1, jmp(j, 0x70, -1, -1));
        assertEquals(1, jmp(j, 0xa0, 1, -1)); // unsigned <
        assertEquals(0, jmp(j, 0xc0, 1, -1)); // signed <
        assertEquals(1, jmp(j, 0xb0, 2, 2));
        assertEquals(1, jmp(j, 0xd0, -3, 2));
    }

    @Test
    void jumps32CompareTheLowHalves() {
        int j = 0x06;
        assertEquals(1, jmp(j, 0x10, 0x1_0000_0005L, 5));
        assertEquals(1, jmp(j, 0x60, 0x1_0000_0001L, 0xffffffffL)); // 1 > -1 signed, 32-bit
        assertEquals(0, jmp(j, 0x20, 0x1_0000_0001L, 0xffffffffL));
        assertEquals(1, jmp(j, 0xc0, 0xffffffffL, 0));
    }

    @Test
    void jaAndGotol() {
        assertEquals(2, new Asm().mov64(0, 1).raw(0x05, 0, 0, 1, 0).exit().mov64(0, 2).exit().run(0, 0, 0));
        assertEquals(3, new Asm().mov64(0, 1).raw(0x06, 0, 0, 0, 2).exit().exit().mov64(0, 3).exit()
                .run(0, 0, 0));
    }

    @Test
    void loadsAndStoresOfEverySizeOnTheStack() {
        // *(u64 *)(r10 - 8) = 0x8899aabbccddeeff; r0 = *(u8 *)(r10 - 1) etc.
        long v = 0x8899aabbccddeeffL;
        for (int[] c : new int[][] {{0x71, 1}, {0x69, 2}, {0x61, 4}, {0x79, 8}}) {
            long got = new Asm().ldImm64(1, v).raw(0x7b, 10, 1, -8, 0).raw(c[0], 0, 10, -8, 0).exit().run(0, 0, 0);
            long mask = c[1] == 8 ? -1L : (1L << (8 * c[1])) - 1;
            assertEquals(v & mask, got, "size " + c[1]);
        }
        // ST imm of every size, read back as u64
        assertEquals(0x0000_0000_0000_ff80L & 0xffL | 0, new Asm().mov64(0, 0).raw(0x7a, 10, 0, -8, 0)
                .raw(0x72, 10, 0, -8, 0x80).raw(0x79, 0, 10, -8, 0).exit().run(0, 0, 0) & 0xff00 | 0x80);
        assertEquals(-2L, new Asm().raw(0x7a, 10, 0, -8, -2).raw(0x79, 0, 10, -8, 0).exit().run(0, 0, 0));
        assertEquals(0xfffeL, new Asm().raw(0x7a, 10, 0, -8, 0).raw(0x6a, 10, 0, -8, -2).raw(0x79, 0, 10, -8, 0)
                .exit().run(0, 0, 0));
    }

    @Test
    void signExtendingLoadsV4() {
        for (int[] c : new int[][] {{0x91, 1}, {0x89, 2}, {0x81, 4}}) {
            long got = new Asm().mov64(1, -2).raw(0x7b, 10, 1, -8, 0).raw(c[0], 0, 10, -8, 0).exit().run(0, 0, 0);
            assertEquals(-2, got, "size " + c[1]);
        }
    }

    /** r1 = 10 stored at fp-8; ATOMIC(imm) with r2 = x; returns {r0 after, r2 after, memory after}. */
    private static long[] atomic(int op, int imm, long x, long r0) {
        long[] out = new long[3];
        Asm a = new Asm().mov64(1, 10).raw(0x7b, 10, 1, -8, 0).ldImm64(2, x).ldImm64(0, r0)
                .raw(op, 10, 2, -8, imm).raw(0x7b, 10, 0, -16, 0).raw(0x7b, 10, 2, -24, 0)
                .raw(0x79, 0, 10, -8, 0).exit();
        out[2] = a.run(0, 0, 0);
        out[0] = new Asm().mov64(1, 10).raw(0x7b, 10, 1, -8, 0).ldImm64(2, x).ldImm64(0, r0)
                .raw(op, 10, 2, -8, imm).exit().run(0, 0, 0);
        out[1] = new Asm().mov64(1, 10).raw(0x7b, 10, 1, -8, 0).ldImm64(2, x).ldImm64(0, r0)
                .raw(op, 10, 2, -8, imm).mov64Reg(0, 2).exit().run(0, 0, 0);
        return out;
    }

    @Test
    void atomics64() {
        int dw = 0xdb;
        assertEquals(13, atomic(dw, 0x00, 3, 0)[2]);
        assertEquals(3, atomic(dw, 0x00, 3, 0)[1]); // no fetch: src unchanged
        assertEquals(10, atomic(dw, 0x01, 3, 0)[1]); // fetch_add returns the old value
        assertEquals(10 | 5, atomic(dw, 0x41, 5, 0)[2]);
        assertEquals(10, atomic(dw, 0x41, 5, 0)[1]);
        assertEquals(10 & 6, atomic(dw, 0x51, 6, 0)[2]);
        assertEquals(10 ^ 6, atomic(dw, 0xa1, 6, 0)[2]);
        assertEquals(99, atomic(dw, 0xe1, 99, 0)[2]); // xchg
        assertEquals(10, atomic(dw, 0xe1, 99, 0)[1]);
        assertEquals(77, atomic(dw, 0xf1, 77, 10)[2]); // cmpxchg hit: memory = src
        assertEquals(10, atomic(dw, 0xf1, 77, 10)[0]); // r0 = old
        assertEquals(10, atomic(dw, 0xf1, 77, 11)[2]); // miss: memory unchanged
        assertEquals(10, atomic(dw, 0xf1, 77, 11)[0]);
    }

    @Test
    void atomics32() {
        int w = 0xc3;
        assertEquals(13, atomic(w, 0x00, 3, 0)[2]);
        assertEquals(10, atomic(w, 0x01, 3, 0)[1]);
        assertEquals(10 | 5, atomic(w, 0x40, 5, 0)[2]);
        assertEquals(99, atomic(w, 0xe1, 99, 0)[2]);
        assertEquals(77, atomic(w, 0xf1, 77, 10)[2]);
        assertEquals(10, atomic(w, 0xf1, 77, 0x1_0000_000aL)[0]); // compares the low 32 bits of r0
    }

    @Test
    void bpfToBpfCallKeepsCalleeSavedRegistersAndFrames() {
        // main: r6 = 5; *(fp-8) = 7; call sub; r0 += r6; r0 += *(fp-8); exit
        // sub: r6 = 100; *(fp-8) = 1000; r0 = r1 * 2; exit   (its own frame and r6)
        Asm a = new Asm().mov64(6, 5).raw(0x7a, 10, 0, -8, 7).mov64(1, 21).raw(0x85, 0, 1, 0, 4)
                .raw(0x0f, 0, 6, 0, 0).raw(0x79, 1, 10, -8, 0).raw(0x0f, 0, 1, 0, 0).exit()
                .mov64(6, 100).raw(0x7a, 10, 0, -8, 1000).mov64Reg(0, 1).raw(0x27, 0, 0, 0, 2).exit();
        assertEquals(42 + 5 + 7, a.run(0, 0, 0));
    }

    @Test
    void runawayLoopHitsTheBudget() {
        BpfFault f = assertThrows(BpfFault.class, () -> new Asm().raw(0x05, 0, 0, -1, 0).exit().run(0, 0, 0));
        assertTrue(f.getMessage().startsWith("program prog: ran more than 1000000 instructions"), f.getMessage());
    }

    @Test
    void stackAndNullAccessesAreChecked() {
        BpfFault f = assertThrows(BpfFault.class, () -> new Asm().raw(0x79, 0, 10, -1000, 0).exit()
                .run(0, 0, 0));
        assertTrue(f.getMessage().contains("out-of-bounds load of 8 bytes"), f.getMessage());
        f = assertThrows(BpfFault.class, () -> new Asm().raw(0x79, 0, 1, 16, 0).exit().run(0, 0, 0));
        assertTrue(f.getMessage().contains("NULL pointer dereference (load of 8 bytes at NULL+16) at insn 0"),
                f.getMessage());
        f = assertThrows(BpfFault.class, () -> new Asm().mov64(2, 1).raw(0xdb, 10, 2, -7, 0).exit().run(0, 0, 0));
        assertTrue(f.getMessage().contains("misaligned atomic"), f.getMessage());
    }
}
