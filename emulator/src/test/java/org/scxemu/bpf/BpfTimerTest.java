// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.bpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.bpf.BpfFixtures.MS;

import org.junit.jupiter.api.Test;
import org.scxemu.harness.Machine;
import org.scxemu.kernel.ScxOp;
import org.scxemu.scx.SchedExtOps;

/**
 * The timer fixture: a self-re-arming bpf_timer whose callback runs bpf_loop() over the
 * loader-filled nr_cpu_ids into a RESIZABLE_ARRAY-style section, an array-of-maps with inner maps
 * bound by .rel.maps, and a per-CPU array read per CPU.
 */
class BpfTimerTest {
    @Test
    void timerLoopResizedArrayAndMapInMap() throws Exception {
        BpfObject o = BpfFixtures.object("timer");
        assertEquals(8 * 4, o.global("cpu_seen").size(), "the one-element array grows to nr_cpu_ids elements");
        SchedExtOps s = BpfFixtures.load("timer", 4);
        try (Machine m = Machine.threaded(4)) {
            assertEquals(0, m.load(s));
            m.start();
            BpfFixtures.runAndAssertProgress(m, BpfFixtures.mixed(m, 4, 4), 200 * MS);
            m.stop();
            m.unload();
            assertEquals("UNREG", m.ext().exitInfo().kindName());
            long fires = BpfScheduler.global(s, "nr_timer_fires");
            assertTrue(fires > 20, "timer fired " + fires + " times in 400 ms");
            // one bpf_loop() body per CPU per firing: nr_cpu_ids was filled with 4
            assertEquals(4 * fires, BpfScheduler.global(s, "nr_loop_calls"));
            BpfOps b = (BpfOps) s;
            BpfObject.Global seen = b.obj.global("cpu_seen");
            for (int cpu = 0; cpu < 4; cpu++) {
                assertEquals(fires, b.vm.mem.loadBytes(seen.region(), seen.off() + 8 * cpu, 8), "cpu " + cpu);
            }
            long enq = m.kernel().opCalls()[ScxOp.ENQUEUE.ordinal()];
            long inner = inner(b, "inner0") + inner(b, "inner1");
            assertEquals(enq, inner, "every enqueue counted through the array of maps");
            assertTrue(inner(b, "inner0") > 0 && inner(b, "inner1") > 0);
            BpfMap.PerCpuArrayMap pcpu = (BpfMap.PerCpuArrayMap) b.obj.maps.get("pcpu");
            assertEquals(enq, pcpu.sum(0, 0));
        }
    }

    private static long inner(BpfOps b, String name) {
        BpfMap.ArrayMap a = (BpfMap.ArrayMap) b.obj.maps.get(name);
        return b.vm.mem.loadBytes(a.values[0], 0, 8);
    }
}
