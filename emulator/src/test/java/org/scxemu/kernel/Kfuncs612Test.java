// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.scx.Scx.*;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.scxemu.scx.SchedExtOps;

/**
 * 6.12's other kfuncs: cpuperf, the global cpumasks and their puts, scx_bpf_task_cgroup(), and
 * 6.12's user-DSQ-only scx_bpf_dsq_nr_queued() / scx_bpf_consume(); SCX_KICK_IDLE's flag rule.
 */
class Kfuncs612Test {
    private static SchedExtOps enqueueDoes(Consumer<Task> body) {
        return new SchedExtOps() {
            @Override
            public String name() {
                return "kfuncs612";
            }

            @Override
            public int init() {
                return scx_bpf_create_dsq(7, -1);
            }

            @Override
            public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                return prevCpu;
            }

            @Override
            public void enqueue(Task p, long enqFlags) {
                body.accept(p);
                scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, 0);
            }
        };
    }

    private static ExitInfo ejected(Stepped s) {
        ExitInfo ei = s.finishExit();
        assertEquals("ERROR", ei.kindName());
        return ei;
    }

    @Test
    void cpuperfCapCurAndSet() {
        try (Stepped s = new Stepped(2, CoreProfile.V6_12)) {
            List<Integer> got = new ArrayList<>();
            assertEquals(0, s.load(enqueueDoes(p -> {
                got.add(scx_bpf_cpuperf_cap(1));
                got.add(scx_bpf_cpuperf_cur(1));
                scx_bpf_cpuperf_set(1, 256);
                scx_bpf_cpuperf_set(0, SCX_CPUPERF_ONE);
            })));
            assertEquals(SCX_CPUPERF_ONE, s.rq(1).scx.cpuperfTarget(), "reset to ONE at enable");
            s.fork("t");
            assertEquals(List.of(SCX_CPUPERF_ONE, SCX_CPUPERF_ONE), got);
            assertEquals(256, s.rq(1).scx.cpuperfTarget());
            assertEquals(SCX_CPUPERF_ONE, s.rq(0).scx.cpuperfTarget());
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
            assertEquals(1, s.kfuncCalls(Kfunc.CPUPERF_CAP));
            assertEquals(2, s.kfuncCalls(Kfunc.CPUPERF_SET));
        }
    }

    @Test
    void cpuperfSetAboveOneEjects() {
        try (Stepped s = new Stepped(2, CoreProfile.V6_12)) {
            assertEquals(0, s.load(enqueueDoes(p -> scx_bpf_cpuperf_set(1, SCX_CPUPERF_ONE + 1))));
            s.fork("t");
            assertEquals("Invalid cpuperf target 1025 for CPU 1", ejected(s).msg());
            assertEquals(SCX_CPUPERF_ONE, s.rq(1).scx.cpuperfTarget());
        }
        try (Stepped s = new Stepped(2, CoreProfile.V6_12)) {
            // a u32: -1 is 4294967295
            assertEquals(0, s.load(enqueueDoes(p -> scx_bpf_cpuperf_set(0, -1))));
            s.fork("t");
            assertEquals("Invalid cpuperf target 4294967295 for CPU 0", ejected(s).msg());
        }
        try (Stepped s = new Stepped(2, CoreProfile.V6_12)) {
            assertEquals(0, s.load(enqueueDoes(p -> scx_bpf_cpuperf_cap(5))));
            s.fork("t");
            assertEquals("invalid CPU 5", ejected(s).msg());
        }
    }

    @Test
    void cpumasks() {
        try (Stepped s = new Stepped(3, CoreProfile.V6_12)) {
            List<CpuMask> got = new ArrayList<>();
            assertEquals(0, s.load(enqueueDoes(p -> {
                got.add(scx_bpf_get_possible_cpumask());
                got.add(scx_bpf_get_online_cpumask());
                got.add(scx_bpf_get_idle_smtmask());
                got.add(scx_bpf_get_idle_cpumask());
                scx_bpf_put_cpumask(got.get(0));
                scx_bpf_put_cpumask(got.get(1));
                scx_bpf_put_idle_cpumask(got.get(2));
                scx_bpf_put_idle_cpumask(got.get(3));
            })));
            s.fork("t");
            assertEquals(CpuMask.all(3), got.get(0));
            assertEquals(CpuMask.all(3), got.get(1));
            assertEquals(got.get(3), got.get(2), "no SMT: the idle SMT mask is the idle mask");
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
            assertEquals(2, s.kfuncCalls(Kfunc.PUT_CPUMASK));
            assertEquals(2, s.kfuncCalls(Kfunc.PUT_IDLE_CPUMASK));
            assertEquals(1, s.kfuncCalls(Kfunc.GET_IDLE_SMTMASK));
        }
    }

    @Test
    void idleSmtmaskWithoutBuiltinIdleEjects() {
        try (Stepped s = new Stepped(1, CoreProfile.V6_12)) {
            SchedExtOps base = enqueueDoes(p -> scx_bpf_get_idle_smtmask());
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "no_builtin_idle";
                }

                @Override
                public void enqueue(Task p, long enqFlags) {
                    base.enqueue(p, enqFlags);
                }

                @Override
                public void updateIdle(int cpu, boolean idle) {
                }
            }));
            s.fork("t");
            assertEquals("built-in idle tracking is disabled", ejected(s).msg());
        }
    }

    @Test
    void taskCgroupFromAnOpOnTheTask() {
        try (Stepped s = new Stepped(1, CoreProfile.V6_12)) {
            List<Cgroup> got = new ArrayList<>();
            assertEquals(0, s.load(enqueueDoes(p -> got.add(scx_bpf_task_cgroup(p)))));
            s.fork("a");
            // an id that names no live group: the root, as task_group() falls back
            s.fork(new Kernel.TaskSpec().comm("b").cgroup(42).behavior(Behavior.cpuBound(1_000_000L)));
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
            assertEquals(2, got.size());
            assertEquals(0, got.get(0).id(), "the root");
            assertEquals(null, got.get(0).parent());
            assertEquals(Cgroup.CGROUP_WEIGHT_DFL, got.get(0).weight());
            assertSame(got.get(0), got.get(1), "one handle for the root");
            assertEquals(2, s.kfuncCalls(Kfunc.TASK_CGROUP));
        }
    }

    @Test
    void taskCgroupOnAnotherTaskEjects() {
        try (Stepped s = new Stepped(1, CoreProfile.V6_12)) {
            Task[] other = new Task[1];
            assertEquals(0, s.load(enqueueDoes(p -> {
                if (other[0] != null && p != other[0]) {
                    scx_bpf_task_cgroup(other[0]);
                }
            })));
            other[0] = s.fork("a");
            s.fork("b");
            assertEquals("called on a task not being operated on", ejected(s).msg());
        }
    }

    @Test
    void nrQueuedAndConsumeTakeUserDsqsOnlyIn612() {
        try (Stepped s = new Stepped(1, CoreProfile.V6_12)) {
            List<Integer> got = new ArrayList<>();
            assertEquals(0, s.load(enqueueDoes(p -> {
                got.add(scx_bpf_dsq_nr_queued(SCX_DSQ_GLOBAL));
                got.add(scx_bpf_dsq_nr_queued(7));
            })));
            s.fork("t");
            assertEquals(List.of(-ENOENT, 0), got);
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
        }
        try (Stepped s = new Stepped(1, CoreProfile.V7)) {
            List<Integer> got = new ArrayList<>();
            assertEquals(0, s.load(enqueueDoes(p -> got.add(scx_bpf_dsq_nr_queued(SCX_DSQ_GLOBAL)))));
            s.fork("a");
            s.fork("b");
            assertEquals(List.of(0, 1), got, "[v7] counts the global DSQ");
        }
        try (Stepped s = new Stepped(1, CoreProfile.V6_12)) {
            boolean[] consumed = {true};
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "consume_global";
                }

                @Override
                public int init() {
                    return scx_bpf_create_dsq(7, -1);
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    return prevCpu;
                }

                @Override
                public void enqueue(Task p, long enqFlags) {
                    scx_bpf_dispatch(p, 7, SCX_SLICE_DFL, 0);
                }

                @Override
                public void dispatch(int cpu, Task prev) {
                    consumed[0] = scx_bpf_consume(SCX_DSQ_GLOBAL);
                }
            }));
            s.fork("t");
            s.step(0);
            assertFalse(consumed[0]);
            assertEquals("invalid DSQ ID 0x8000000000000001", ejected(s).msg());
        }
    }

    @Test
    void kickIdleWithPreemptOrWaitEjects() {
        try (Stepped s = new Stepped(2, CoreProfile.V6_12)) {
            assertEquals(0, s.load(enqueueDoes(p -> scx_bpf_kick_cpu(1, SCX_KICK_IDLE | SCX_KICK_WAIT))));
            s.fork("t");
            assertEquals("PREEMPT/WAIT cannot be used with SCX_KICK_IDLE", ejected(s).msg());
        }
        assertTrue(Kfunc.KICK_CPU.existsIn(CoreProfile.V7));
    }
}
