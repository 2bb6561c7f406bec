// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.controlled;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.scxemu.harness.KernelProfile;
import org.scxemu.harness.RunSpec;
import org.scxemu.harness.Runner;
import org.scxemu.harness.workload.Workloads;
import org.scxemu.kernel.RacePoint;
import org.scxemu.kernel.Tracer;
import org.scxemu.schedulers.ScxQmap;
import org.scxemu.schedulers.ScxSimple;
import org.scxemu.scx.SchedExtOps;

/**
 * The controller on its own: different seeds give different interleavings (with the workload's
 * seed fixed), the strategies differ, the step bound ends a run, the per-hand-over listener sees
 * every step in order, and the hand-overs happen at the core's race points.
 */
class ControllerTest {
    private static final long MS = 1_000_000L;

    private static RunSpec spec(String sched, int cpus, String workload, long durationNs) {
        return new RunSpec(sched, Map.of(), workload, cpus, MS, durationNs, 1, KernelProfile.byId("v7"));
    }

    private static SchedExtOps qmap() {
        return new ScxQmap(new ScxQmap.Options());
    }

    private static Runner.ControlledRun run(RunSpec rs, SchedExtOps ops, ControlledSpec cs) {
        Runner.ControlledRun r = Runner.runControlled(rs, cs, ops, Workloads.create(rs.workload()),
                Runner.Listener.NONE, Tracer.NONE);
        assertFalse(RacePoint.installed(), "the hook is removed when the run ends");
        assertEquals(null, r.result().bug, "no kernel BUG");
        return r;
    }

    /** The kept hand-overs as "from point to" lines, without times. */
    private static List<String> interleaving(Controller c) {
        HandOverLog log = c.log();
        List<String> out = new ArrayList<>();
        for (int k = 0; k < log.size(); k++) {
            out.add(log.step(k) + " " + log.fromName(k) + " " + log.pointName(k) + " " + log.toName(k));
        }
        return out;
    }

    @Test
    void differentSeedsGiveDifferentInterleavings() {
        RunSpec rs = spec("qmap", 4, "mixed", 30 * MS);
        List<String> a = interleaving(run(rs, qmap(), ControlledSpec.of(1, Strategy.RANDOM)).controller());
        List<String> b = interleaving(run(rs, qmap(), ControlledSpec.of(2, Strategy.RANDOM)).controller());
        List<String> a2 = interleaving(run(rs, qmap(), ControlledSpec.of(1, Strategy.RANDOM)).controller());
        assertTrue(a.equals(a2), "same seed, same interleaving");
        assertFalse(a.equals(b), "another seed, another interleaving");
        ControlledSpec pct = ControlledSpec.of(1, Strategy.PCT).withPctHorizon(1_000);
        List<String> p = interleaving(run(rs, qmap(), pct).controller());
        assertFalse(a.equals(p), "pct is not random");
        List<String> p5 = interleaving(run(rs, qmap(), pct.withPctDepth(5)).controller());
        assertFalse(p.equals(p5), "pct's depth matters");
    }

    @Test
    void theStepBoundEndsARun() {
        RunSpec rs = spec("simple", 2, "hackbench", 10_000 * MS);
        Runner.ControlledRun r = run(rs, new ScxSimple(false),
                ControlledSpec.of(7, Strategy.PCT).withMaxSteps(2_000));
        assertEquals(Controller.Stop.MAX_STEPS, r.stoppedBy());
        assertEquals(2_000, r.endStep());
        assertTrue(r.result().unloadedNormally(), "still unloaded normally");
        assertTrue(r.controller().steps() >= 2_000, "draining takes steps too");
    }

    @Test
    void handOversHappenAtTheRacePoints() {
        RunSpec rs = spec("qmap", 4, "rt-preempt", 100 * MS);
        Controller c = run(rs, qmap(), ControlledSpec.of(3, Strategy.RANDOM).withLogCapacity(1_000_000))
                .controller();
        Set<String> points = new TreeSet<>();
        for (int k = 0; k < c.log().size(); k++) {
            points.add(c.log().pointName(k));
        }
        for (String p : List.of("start", "pass", "lock", "dsq_insert", "dsq_remove", "ops_state", "pnt_seq",
                "cpu_released", "exit")) {
            assertTrue(points.contains(p), p + " in " + points);
        }
        assertEquals(0, c.log().dropped());
        assertEquals(c.steps(), c.log().total());
    }

    @Test
    void theListenerSeesEveryHandOverInOrderWithTheMachineQuiescent() throws Exception {
        ControlledSpec cs = ControlledSpec.of(5, Strategy.RANDOM);
        try (org.scxemu.harness.Machine m = org.scxemu.harness.Machine.controlled(2, MS, Tracer.NONE, cs)) {
            assertEquals(0, m.load(new ScxSimple(false)));
            Controller c = m.controller();
            long[] seen = {0};
            List<String> lines = new ArrayList<>();
            c.onHandOver((ctl, step, from, point, to) -> {
                assertEquals(seen[0] + 1, step, "consecutive steps");
                seen[0] = step;
                if (step == 50) {
                    ctl.requestStop();
                }
                lines.add(ctl.participantName(to));
            });
            m.start();
            assertEquals(Controller.Stop.CONDITION,
                    c.runAction(() -> Workloads.create("cpu-bound").start(m.kernel(), 2, 1)));
            Controller.Stop s = c.runUntil(null, Long.MAX_VALUE, Long.MAX_VALUE);
            assertEquals(Controller.Stop.REQUESTED, s, "a listener can stop the run");
            assertEquals(50, c.steps());
            assertEquals(Controller.Stop.STEPS, c.runUntil(null, Long.MAX_VALUE, 100));
            assertEquals(150, c.steps());
            long t = m.kernel().now();
            assertEquals(Controller.Stop.TIME, c.runUntil(null, t + 20 * MS, Long.MAX_VALUE));
            assertTrue(m.kernel().now() >= t + 20 * MS);
            m.stop();
            assertEquals(c.steps(), seen[0]);
            assertEquals(lines.size(), seen[0]);
        }
        assertFalse(RacePoint.installed());
    }
}
