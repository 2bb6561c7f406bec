// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.scxemu.harness.workload.Workloads;
import org.scxemu.schedulers.ScxQmap612;

/** 6.12's scx_qmap on the threaded machine under --kernel 6.12: runs to UNREG on mixed and rt-preempt. */
class Qmap612RunTest {
    private static final long MS = 1_000_000L;

    private static RunResult run(String workload) {
        RunSpec spec = new RunSpec("qmap-6.12", Map.of(), workload, 4, MS, 400 * MS, 1, KernelProfile.byId("6.12"));
        return Runner.run(spec, new ScxQmap612(), Workloads.create(workload), Runner.Listener.NONE);
    }

    @Test
    void mixedRunsToUnreg() {
        RunResult r = run("mixed");
        assertEquals("UNREG", r.exitKindName, r.exitMsg);
        assertTrue(r.schedulerStats.get("nr_enqueued") > 0);
    }

    @Test
    void rtPreemptRunsToUnreg() {
        RunResult r = run("rt-preempt");
        assertEquals("UNREG", r.exitKindName, r.exitMsg);
        assertTrue(r.schedulerStats.get("nr_reenqueued") > 0, "cpu_release re-enqueued under RT preemption");
    }
}
