// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.scx.Scx.*;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.scxemu.scx.SchedExtOps;

/** The selftests minimal, select_cpu_dfl, select_cpu_dfl_nodispatch; built-in idle tracking. */
class MinimalAndIdleTest {

    @Test
    void minimalSchedulerRunsEveryTaskThroughTheGlobalDsq() {
        try (Stepped s = new Stepped(2)) {
            assertEquals(0, s.load(() -> "minimal"));
            assertTrue(ScxKeys.SCX_OPS_ENABLED.enabled());
            assertTrue(ScxKeys.SCX_SWITCHED_ALL.enabled());
            List<Task> tasks = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                tasks.add(s.fork("t" + i));
            }
            // two idle CPUs were claimed by the default select_cpu; the rest went to the global DSQ
            assertEquals(3, s.global().size());
            Set<Task> seenOnGlobal = new HashSet<>(s.global());
            for (int i = 0; i < 200; i++) {
                s.clock.advance(1_000_000L);
                s.settle();
                seenOnGlobal.addAll(s.global());
                for (int cpu = 0; cpu < 2; cpu++) {
                    Task curr = s.rq(cpu).curr();
                    if (curr != s.rq(cpu).idleTask()) {
                        assertEquals(SchedClass.EXT, curr.schedClass());
                    }
                }
            }
            for (Task p : tasks) {
                assertEquals(SchedClass.EXT, p.schedClass());
                assertTrue(p.sumExecRuntime() > 0, p + " never ran");
                assertTrue(seenOnGlobal.contains(p), p + " never went through the global DSQ");
            }
            assertArrayEquals(new long[ScxOp.COUNT], s.k.opCalls(), "ops called on a scheduler that has none");
            assertArrayEquals(new long[Kfunc.COUNT], s.k.kfuncCalls(), "kfuncs called");
            s.m.unload();
            assertEquals("UNREG", s.ext.exitInfo().kindName());
            assertEquals("unregistered from user space", s.ext.exitInfo().reason());
            assertFalse(ScxKeys.SCX_OPS_ENABLED.enabled());
            assertFalse(ScxKeys.SCX_SWITCHED_ALL.enabled());
            for (Task p : tasks) {
                assertEquals(SchedClass.FAIR, p.schedClass());
            }
        }
    }

    @Test
    void defaultSelectCpuDispatchesIdleWakeupsWithoutEnqueue() {
        try (Stepped s = new Stepped(4)) {
            List<Task> enqueued = new ArrayList<>();
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "select_cpu_dfl";
                }

                @Override
                public void enqueue(Task p, long enqFlags) {
                    enqueued.add(p);
                    scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, enqFlags);
                }
            }));
            List<Task> tasks = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                tasks.add(s.fork("t" + i));
            }
            assertTrue(enqueued.isEmpty(), "enqueue saw tasks woken to an idle CPU: " + enqueued);
            Set<Integer> cpus = new HashSet<>();
            for (Task p : tasks) {
                assertEquals(List.of(p), s.local(p.cpu()), p + " not directly dispatched to its CPU's local DSQ");
                cpus.add(p.cpu());
            }
            assertEquals(4, cpus.size(), "each task got its own idle CPU");
            // every CPU is busy now: the next wakeup goes through ops.enqueue()
            Task fifth = s.fork("t4");
            assertEquals(List.of(fifth), enqueued);
            s.runFor(50_000_000L, 1_000_000L);
            assertTrue(fifth.sumExecRuntime() > 0);
        }
    }

    @Test
    void selectCpuDflKfuncReportsIdleWithoutDispatching() {
        try (Stepped s = new Stepped(2)) {
            List<Boolean> sawIdle = new ArrayList<>();
            List<Long> enqFlagsSeen = new ArrayList<>();
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "select_cpu_dfl_nodispatch";
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    boolean[] idle = new boolean[1];
                    int cpu = scx_bpf_select_cpu_dfl(p, prevCpu, wakeFlags, idle);
                    sawIdle.add(idle[0]);
                    return cpu;
                }

                @Override
                public void enqueue(Task p, long enqFlags) {
                    enqFlagsSeen.add(enqFlags);
                    scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, enqFlags);
                }
            }));
            s.fork("a");
            s.fork("b");
            s.fork("c");
            assertEquals(List.of(true, true, false), sawIdle);
            assertEquals(3, enqFlagsSeen.size(), "with ops.select_cpu the kernel does not direct-dispatch");
        }
    }

    @Test
    void testAndClearCpuIdleClaimsOnce() {
        try (Stepped s = new Stepped(2)) {
            List<Boolean> claims = new ArrayList<>();
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "claim";
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    claims.add(scx_bpf_test_and_clear_cpu_idle(1));
                    claims.add(scx_bpf_test_and_clear_cpu_idle(1));
                    return prevCpu;
                }
            }));
            assertTrue(s.ext.idle.testCpuIdle(1));
            s.forkPinned("t", 0);
            assertEquals(List.of(true, false), claims);
            assertFalse(s.ext.idle.testCpuIdle(1));
            // CPU 1 (which cannot take t) goes through the idle class again: its bit comes back
            s.resched(1);
            s.step(1);
            assertTrue(s.ext.idle.testCpuIdle(1));
        }
    }

    @Test
    void pickIdleCpuClaimsDistinctCpusThenBusy() {
        try (Stepped s = new Stepped(3)) {
            List<Integer> picks = new ArrayList<>();
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "pick";
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    for (int i = 0; i < 4; i++) {
                        picks.add(scx_bpf_pick_idle_cpu(CpuMask.all(3), 0));
                    }
                    return prevCpu;
                }
            }));
            s.fork("t");
            assertEquals(4, picks.size());
            assertEquals(Set.of(0, 1, 2), new HashSet<>(picks.subList(0, 3)));
            assertEquals(-EBUSY, picks.get(3));
            assertTrue(s.ext.idle.idleCpumask().weight() == 0);
        }
    }

    @Test
    void runningCpusAreNotIdleAndIdleCpusAre() {
        try (Stepped s = new Stepped(2)) {
            assertEquals(0, s.load(() -> "idlemask"));
            Task p = s.forkPinned("p", 0);
            s.settle();
            assertEquals(p, s.rq(0).curr());
            assertFalse(s.ext.idle.testCpuIdle(0));
            assertTrue(s.ext.idle.testCpuIdle(1));
        }
    }

    @Test
    void updateIdleOpReplacesBuiltinTrackingUnlessKept() {
        try (Stepped s = new Stepped(2)) {
            List<String> calls = new ArrayList<>();
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "upd_idle";
                }

                @Override
                public void updateIdle(int cpu, boolean idle) {
                    calls.add(cpu + ":" + idle);
                }

                @Override
                public void enqueue(Task p, long enqFlags) {
                    scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, enqFlags);
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    return prevCpu;
                }
            }));
            assertFalse(ScxKeys.SCX_BUILTIN_IDLE_ENABLED.enabled());
            s.forkPinned("p", 0);
            s.settle();
            assertTrue(calls.contains("0:false"), calls.toString());
        }
    }
}
