// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.stress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.scxemu.harness.Machine;
import org.scxemu.kernel.Behavior;
import org.scxemu.kernel.Ext;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.RacePoint;
import org.scxemu.kernel.Task;
import org.scxemu.schedulers.ScxQmap;
import org.scxemu.schedulers.ScxSimple;
import org.scxemu.scx.SchedExtOps;

/**
 * Every chaos injector against scx_simple and scx_qmap on CPU threads, for a few hundred ms: no
 * kernel bug, the scheduler still loaded at the end (after clean reloads), every injector used,
 * the workload still running, and stop() leaves no hook behind. A longer soak:
 * {@code -Dtest=ChaosTest -Dchaos.test.ms=10000 -Dchaos.test.seed=N}.
 */
class ChaosTest {

    private static void survives(int cpus, long seed, Supplier<SchedExtOps> sched) {
        Machine m = Machine.threaded(cpus);
        try {
            Kernel k = m.kernel();
            assertEquals(0, m.load(sched.get()));
            Task[] work = new Task[2 * cpus];
            for (int i = 0; i < work.length; i++) {
                work[i] = k.fork(new Kernel.TaskSpec().comm("w" + i).cpu(i % cpus)
                        .behavior(Behavior.cpuBound(500_000L)));
            }
            m.start();
            AtomicInteger loadErrors = new AtomicInteger();
            Chaos chaos = new Chaos(k, ChaosConfig.all(), seed, () -> {
                m.unload();
                if (m.load(sched.get()) != 0) {
                    loadErrors.incrementAndGet();
                }
            }).reloadEvery(120_000_000L);
            chaos.start();
            assertTrue(RacePoint.installed());
            m.runFor(Long.getLong("chaos.test.ms", 400L) * 1_000_000L);
            chaos.stop();
            assertTrue(!RacePoint.installed(), "stop() removes the delay hook");
            Map<String, Long> counts = chaos.counts();
            long before = runtime(work);
            m.runFor(30_000_000L);
            long after = runtime(work);
            m.stop();
            assertNull(k.bug(), () -> "kernel bug: " + k.bug() + " " + counts);
            assertNull(chaos.failure());
            assertEquals(0, loadErrors.get());
            assertEquals(Ext.SCX_OPS_ENABLED, m.ext().enableState(),
                    () -> "scheduler not loaded: " + m.ext().exitInfo() + "\n" + String.join("\n", m.ext().dmesg()));
            assertEquals(ChaosConfig.NAMES, java.util.List.copyOf(counts.keySet()));
            for (Map.Entry<String, Long> e : counts.entrySet()) {
                // hotplug is opt-in (weight 0 in all): see HotplugChaosTest
                assertTrue(e.getValue() > 0 || e.getKey().equals("hotplug"), "injector " + e.getKey()
                        + " never ran: " + counts);
            }
            assertTrue(after > before, "the workload still runs after the chaos");
        } finally {
            m.close();
        }
    }

    private static long runtime(Task[] tasks) {
        long n = 0;
        for (Task t : tasks) {
            n += t.sumExecRuntime();
        }
        return n;
    }

    @Test
    void scxSimpleSurvivesEveryInjector() {
        survives(3, Long.getLong("chaos.test.seed", 1L), () -> new ScxSimple(false));
    }

    @Test
    void scxQmapSurvivesEveryInjector() {
        survives(4, 2L, () -> ScxQmap.create(new ScxQmap.Options()));
    }

    @Test
    void scxQmapOnTwoCpusSurvivesEveryInjector() {
        survives(2, 3L, () -> ScxQmap.create(new ScxQmap.Options()));
    }

    @Test
    void reloadNeedsACallback() {
        Machine m = Machine.threaded(1);
        assertThrows(IllegalArgumentException.class, () -> new Chaos(m.kernel(), ChaosConfig.all(), 1L, null));
        new Chaos(m.kernel(), ChaosConfig.all().with("reload", 0), 1L, null).stop(); // never started: a no-op
    }
}
