// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.scxemu.harness.stress.ChaosConfig;
import org.scxemu.harness.stress.StressRunner;
import org.scxemu.harness.workload.WorkloadFile;
import org.scxemu.harness.workload.Workloads;
import org.scxemu.kernel.Tracer;
import org.scxemu.schedulers.ScxQmap612;

/**
 * 6.12's scx_qmap on the threaded machine under --kernel 6.12: runs to UNREG on mixed and
 * rt-preempt; with -H on nice -20 tasks under the invariant checker (no RT tasks there: 6.12's
 * missed cpu_release is a finding of its own), the cross-CPU moves of
 * scx_bpf_dispatch_from_dsq() (from ops.dispatch() and the unlocked timer) leave every task where
 * the kernel's invariants want it.
 */
class Qmap612RunTest {
    private static final long MS = 1_000_000L;

    private static RunSpec spec(String workload, long durationNs) {
        return new RunSpec("qmap-6.12", Map.of(), workload, 4, MS, durationNs, 1, KernelProfile.byId("6.12"));
    }

    private static RunResult run(String workload) {
        return Runner.run(spec(workload, 400 * MS), new ScxQmap612(), Workloads.create(workload), Runner.Listener.NONE);
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

    @Test
    void highpriBoostingUnderTheInvariantChecker(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("boost.json");
        Files.writeString(f, "{\"tasks\": ["
                + "{\"name\": \"w\", \"count\": 12, \"phases\": [{\"run_ns\": 3000000}, {\"sleep_ns\": 500000}]},"
                + "{\"name\": \"hi\", \"count\": 3, \"nice\": -20,"
                + " \"phases\": [{\"run_ns\": 1000000}, {\"sleep_ns\": 1000000}]}]}");
        ScxQmap612.Options o = new ScxQmap612.Options();
        o.highpriBoosting = true;
        o.dspBatch = 8;
        ScxQmap612 q = new ScxQmap612(o);
        String wl = WorkloadFile.PREFIX + f;
        StressRunner.Outcome out = StressRunner.run(spec(wl, 1500 * MS), () -> q, WorkloadFile.load(wl, f, 4),
                ChaosConfig.parse("none"), 1000 * MS, Runner.Listener.NONE, Tracer.NONE);
        assertNull(out.violation, () -> "violation: " + out.violation + "\n" + out.history);
        assertTrue(out.result.unloadedNormally(), out.result.exitKindName + " " + out.result.exitMsg);
        Map<String, Long> st = q.stats();
        assertTrue(st.get("nr_expedited_local") + st.get("nr_expedited_remote") > 0, st.toString());
    }
}
