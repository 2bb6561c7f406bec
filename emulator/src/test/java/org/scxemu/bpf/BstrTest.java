// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.bpf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The kernel's bstr formatting (scx_bpf_error/exit/dump_bstr, trace_printk): one u64 per
 * conversion, 32-bit conversions without {@code l}, {@code %s} through a BPF pointer.
 */
class BstrTest {
    private final Vm vm = new Vm(new BpfObject(new Asm().exit().build()), 1);

    @Test
    void integersTakeTheirWidthFromTheLengthModifier() {
        long[] d = {-1L, -1L, 0xffff_ffffL, 0x1_0000_0002L, 255};
        assertEquals("-1 -1 4294967295 2 ff", vm.bstr("%d %lld %u %d %x", d, d.length));
        assertEquals("18446744073709551615", vm.bstr("%llu", new long[] {-1L}, 1));
        assertEquals("  42|42  |0042", vm.bstr("%4d|%-4d|%04d", new long[] {42, 42, 42}, 3));
        assertEquals("100% x", vm.bstr("100%% %c", new long[] {'x'}, 1));
    }

    @Test
    void stringsAreReadThroughBpfPointersAndBadFlagsStayVerbatim() {
        long p = vm.mem.string("s", "hello");
        assertEquals("<hello> (null)", vm.bstr("<%s> %s", new long[] {p, 0}, 2));
        assertEquals("%05s", vm.bstr("%05s", new long[] {p}, 1));
        assertEquals("missing: 0", vm.bstr("missing: %d", new long[0], 0));
    }
}
