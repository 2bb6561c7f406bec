// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.stress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.scxemu.harness.KernelProfile;
import org.scxemu.harness.RunSpec;
import org.scxemu.harness.Runner;
import org.scxemu.harness.workload.Workloads;
import org.scxemu.kernel.InvariantChecker;
import org.scxemu.kernel.Tracer;
import org.scxemu.scx.SchedExtOps;

/**
 * The invariant checker catches a scheduler with a planted bug, with a report that names the
 * invariant, the task and the place it was left in; the same scheduler without the bug runs clean.
 */
class PlantedBugTest {
    private static final long S = 1_000_000_000L;

    static StressRunner.Outcome stress(SchedExtOps ops, String workload, long durationNs, long stallLimitNs) {
        RunSpec spec = new RunSpec(ops.name(), Map.of(), workload, 4, 1_000_000L, durationNs, 1, KernelProfile.V7);
        return StressRunner.run(spec, () -> ops, Workloads.create(workload), ChaosConfig.parse("none"), stallLimitNs,
                Runner.Listener.NONE, Tracer.NONE);
    }

    @Test
    void theCorrectFifoRunsClean() {
        StressRunner.Outcome o = stress(new PlantedBugs.Fifo(), "mixed", 2 * S, S);
        assertNull(o.violation, () -> "violation: " + o.violation + "\n" + o.history);
        assertTrue(o.checked > 1000, "checks: " + o.checked);
        assertTrue(o.result.unloadedNormally(), o.result.exitKindName);
        assertTrue(o.result.opCalls[org.scxemu.kernel.ScxOp.CPU_RELEASE.ordinal()] > 0, "no cpu_release at all");
    }

    @Test
    void aTaskDroppedInCpuReleaseIsALivenessViolation() {
        PlantedBugs.DropsInCpuRelease ops = new PlantedBugs.DropsInCpuRelease();
        StressRunner.Outcome o = stress(ops, "mixed", 10 * S, 300_000_000L);
        InvariantChecker.Violation v = o.violation;
        assertNotNull(v, "the dropped task was not noticed");
        assertEquals("liveness", v.invariant, v.toString());
        int pid = ops.droppedPid.get();
        assertTrue(v.task.endsWith("[" + pid + "]"), v.task + " is not the dropped task " + pid);
        assertTrue(v.message.contains("owned by the scheduler (ops_state 0x"), v.message);
        assertTrue(!o.dump.isEmpty() && o.dump.contains("scx-emu stress"), o.dump);
        Map<?, ?> inv = (Map<?, ?>) o.result.toJson().get("invariants");
        assertTrue((Long) inv.get("violations") >= 1, inv.toString());
        assertEquals("liveness", ((Map<?, ?>) inv.get("first")).get("invariant"));
    }

    @Test
    void dispatchingATaskNeverGivenIsAnOwnershipViolation() {
        PlantedBugs.DispatchesUnowned ops = new PlantedBugs.DispatchesUnowned();
        StressRunner.Outcome o = stress(ops, "mixed", 5 * S, 5 * S);
        InvariantChecker.Violation v = o.violation;
        assertNotNull(v, "the unowned dispatch was not noticed");
        assertEquals("ownership", v.invariant, v.toString());
        assertTrue(v.task.endsWith("[" + ops.victimPid.get() + "]"), v.task);
        assertTrue(v.message.contains("class rt"), v.message);
        assertTrue(o.history.contains("dispatch " + v.task), o.history);
    }
}
