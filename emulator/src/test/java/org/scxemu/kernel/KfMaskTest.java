// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.scx.Scx.*;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.scxemu.scx.SchedExtOps;

/**
 * kf_mask: every kfunc checks its calling context and a wrong context ejects the scheduler with
 * one of the kernel's three texts (v7 mask values: SLEEPABLE 0x1, CPU_RELEASE 0x2, DISPATCH 0x4,
 * ENQUEUE 0x8, SELECT_CPU 0x10, REST 0x20).
 */
class KfMaskTest {

    private static void assertError(Stepped s, String msg) {
        ExitInfo ei = s.finishExit();
        assertEquals("ERROR", ei.kindName(), "msg=" + ei.msg());
        assertEquals(msg, ei.msg());
        assertEquals(Ext.SCX_OPS_DISABLED, s.ext.enableState());
    }

    @Test
    void v7MaskValues() {
        assertEquals(0x1, SCX_KF_SLEEPABLE);
        assertEquals(0x2, SCX_KF_CPU_RELEASE);
        assertEquals(0x4, SCX_KF_DISPATCH);
        assertEquals(0x8, SCX_KF_ENQUEUE);
        assertEquals(0x10, SCX_KF_SELECT_CPU);
        assertEquals(0x20, SCX_KF_REST);
        assertEquals(0x3e, __SCX_KF_RQ_LOCKED);
        assertEquals(0x38, __SCX_KF_TERMINAL);
    }

    /** A scheduler whose enqueue runs {@code body} and then queues the task on the global DSQ. */
    private static SchedExtOps enqueueDoes(Consumer<Task> body) {
        return new SchedExtOps() {
            @Override
            public String name() {
                return "kfmask";
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

    @Test
    void consumeFromEnqueue() {
        try (Stepped s = new Stepped(1)) {
            assertEquals(0, s.load(enqueueDoes(p -> scx_bpf_consume(SCX_DSQ_GLOBAL))));
            s.fork("t");
            assertError(s, "kfunc with mask 0x4 called from an operation only allowing 0x8");
        }
    }

    @Test
    void selectCpuDflFromEnqueue() {
        try (Stepped s = new Stepped(1)) {
            assertEquals(0, s.load(enqueueDoes(p -> scx_bpf_select_cpu_dfl(p, 0, 0, new boolean[1]))));
            s.fork("t");
            assertError(s, "kfunc with mask 0x10 called from an operation only allowing 0x8");
        }
    }

    @Test
    void createDsqFromEnqueueIsNotSleepable() {
        try (Stepped s = new Stepped(1)) {
            int[] ret = new int[1];
            assertEquals(0, s.load(enqueueDoes(p -> ret[0] = scx_bpf_create_dsq(5, -1))));
            s.fork("t");
            assertError(s, "kfunc with mask 0x1 called from an operation only allowing 0x8");
            assertTrue(ret[0] < 0);
        }
    }

    @Test
    void reenqueueLocalFromSelectCpu() {
        try (Stepped s = new Stepped(1)) {
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "kfmask";
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    scx_bpf_reenqueue_local();
                    return prevCpu;
                }
            }));
            s.fork("t");
            assertError(s, "kfunc with mask 0x2 called from an operation only allowing 0x18");
        }
    }

    @Test
    void dispatchFromARestOp() {
        try (Stepped s = new Stepped(1)) {
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "kfmask";
                }

                @Override
                public void running(Task p) {
                    scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, 0);
                }
            }));
            s.fork("t");
            s.settle();
            assertError(s, "kfunc with mask 0xc called from an operation only allowing 0x20");
        }
    }

    /** A scheduler that keeps tasks in a FIFO and dispatches them from ops.dispatch(). */
    private abstract static class Fifo implements SchedExtOps {
        final ArrayDeque<Task> q = new ArrayDeque<>();

        @Override
        public String name() {
            return "kfmask_fifo";
        }

        @Override
        public int selectCpu(Task p, int prevCpu, long wakeFlags) {
            return prevCpu;
        }

        @Override
        public void enqueue(Task p, long enqFlags) {
            q.add(p);
        }

        @Override
        public void dispatch(int cpu, Task prev) {
            Task p = q.poll();
            if (p != null) {
                scx_bpf_dispatch(p, SCX_DSQ_LOCAL, SCX_SLICE_DFL, 0);
            }
        }
    }

    @Test
    void reenqueueLocalFromDispatch() {
        try (Stepped s = new Stepped(1)) {
            assertEquals(0, s.load(new Fifo() {
                @Override
                public void dispatch(int cpu, Task prev) {
                    scx_bpf_reenqueue_local();
                    super.dispatch(cpu, prev);
                }
            }));
            s.fork("t");
            s.step(0);
            assertError(s, "kfunc with mask 0x2 called from an operation only allowing 0x4");
        }
    }

    @Test
    void dispatchKfuncFromDequeueNestedInDispatch() {
        try (Stepped s = new Stepped(2)) {
            Task[] victim = new Task[1];
            assertEquals(0, s.load(new Fifo() {
                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    return 1;
                }

                @Override
                public void dispatch(int cpu, Task prev) {
                    Task v = victim[0];
                    if (cpu == 0 && v != null) {
                        // p's rq (CPU 1) re-queues it while this CPU dispatches: ops.dequeue()
                        // runs nested inside ops.dispatch() (REST inside DISPATCH is legal)
                        Rq rq1 = s.rq(1);
                        rq1.lock.lock();
                        try {
                            s.k.requeue(rq1, v);
                        } finally {
                            rq1.lock.unlock();
                        }
                    }
                }

                @Override
                public void dequeue(Task p, long deqFlags) {
                    scx_bpf_dispatch_nr_slots();
                }
            }));
            victim[0] = s.fork("v");
            s.resched(0);
            s.step(0);
            assertTrue(s.ext.dmesg().stream().noneMatch(l -> l.contains("invalid nesting")), s.ext.dmesg().toString());
            assertError(s, "dispatch kfunc called from a nested operation");
        }
    }

    @Test
    void reenqueueFromEnqueueNestedInCpuReleaseIsNestedError() {
        try (Stepped s = new Stepped(1)) {
            List<Long> reenqFlags = new ArrayList<>();
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "nested_reenq";
                }

                @Override
                public void enqueue(Task p, long enqFlags) {
                    if ((enqFlags & SCX_ENQ_REENQ) != 0) {
                        reenqFlags.add(enqFlags);
                        scx_bpf_reenqueue_local();
                    }
                    scx_bpf_dispatch(p, SCX_DSQ_LOCAL, SCX_SLICE_DFL, 0);
                }

                @Override
                public void cpuRelease(int cpu, CpuReleaseArgs args) {
                    scx_bpf_reenqueue_local();
                }
            }));
            Task a = s.fork("a");
            Task b = s.fork("b");
            s.settle();
            assertEquals(a, s.rq(0).curr());
            assertEquals(List.of(b), s.local(0));
            s.forkClass("rt", Task.SCHED_FIFO, 0, Stepped.runThenExit(1_000_000L));
            s.step(0);
            assertTrue(!reenqFlags.isEmpty(), "enqueue did not run nested in cpu_release");
            assertError(s, "cpu_release kfunc called from a nested operation");
        }
    }

    @Test
    void dispatchDirectlyFromCpuReleaseIsNotAllowed() {
        try (Stepped s = new Stepped(1)) {
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "rel_dsp";
                }

                @Override
                public void cpuRelease(int cpu, CpuReleaseArgs args) {
                    scx_bpf_dispatch(args.task(), SCX_DSQ_GLOBAL, SCX_SLICE_DFL, 0);
                }
            }));
            s.fork("a");
            s.settle();
            s.forkClass("rt", Task.SCHED_FIFO, 0, Stepped.runThenExit(1_000_000L));
            s.step(0);
            assertError(s, "kfunc with mask 0xc called from an operation only allowing 0x2");
        }
    }

    @Test
    void kfuncsAllowedInTheirContextsDoNotEject() {
        try (Stepped s = new Stepped(2)) {
            List<String> done = new ArrayList<>();
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "kfmask_ok";
                }

                @Override
                public int init() {
                    done.add("init:" + scx_bpf_create_dsq(3, -1));
                    return 0;
                }

                @Override
                public int initTask(Task p, InitTaskArgs args) {
                    done.add("init_task:" + scx_bpf_create_dsq(100 + p.pid, -1));
                    return 0;
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    int cpu = scx_bpf_select_cpu_dfl(p, prevCpu, wakeFlags, new boolean[1]);
                    scx_bpf_kick_cpu(cpu, 0);
                    scx_bpf_dsq_nr_queued(3);
                    return cpu;
                }

                @Override
                public void enqueue(Task p, long enqFlags) {
                    scx_bpf_dispatch(p, 3, SCX_SLICE_DFL, enqFlags);
                }

                @Override
                public void dispatch(int cpu, Task prev) {
                    scx_bpf_dispatch_nr_slots();
                    if (scx_bpf_consume(3)) {
                        done.add("consumed");
                    }
                }

                @Override
                public void running(Task p) {
                    scx_bpf_kick_cpu(0, SCX_KICK_IDLE);
                    scx_bpf_test_and_clear_cpu_idle(1);
                }
            }));
            s.fork("a");
            s.fork("b");
            s.runFor(5_000_000L, 1_000_000L);
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind(), s.ext.exitInfo().msg());
            assertTrue(done.contains("init:0"));
            assertTrue(done.contains("consumed"), done.toString());
            assertEquals(2, done.stream().filter(x -> x.equals("init_task:0")).count(), done.toString());
        }
    }
}
