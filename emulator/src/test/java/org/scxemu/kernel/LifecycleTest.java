// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.scx.Scx.*;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.scxemu.scx.SchedExtOps;

/**
 * Enable and disable: init_task once per task, enable/disable pairing, exit_task at unload or
 * task exit; one scheduler at a time; load-time validation; SCX_OPS_SWITCH_PARTIAL (the selftests
 * init_enable_count, reload_loop, enq_last_no_enq_fails).
 */
class LifecycleTest {

    /** Counts the per-task lifecycle ops. */
    private static class Counting implements SchedExtOps {
        final Map<Task, List<String>> ops = new HashMap<>();
        final List<String> global = new ArrayList<>();
        long opsFlags;
        int initTaskRet;

        @Override
        public String name() {
            return "init_enable_count";
        }

        @Override
        public long flags() {
            return opsFlags;
        }

        private synchronized void rec(Task p, String op) {
            ops.computeIfAbsent(p, k -> new ArrayList<>()).add(op);
        }

        synchronized List<String> of(Task p) {
            return ops.getOrDefault(p, List.of());
        }

        @Override
        public int initTask(Task p, InitTaskArgs args) {
            rec(p, args.fork() ? "init_task(fork)" : "init_task");
            return initTaskRet;
        }

        @Override
        public void exitTask(Task p, ExitTaskArgs args) {
            rec(p, args.cancelled() ? "exit_task(cancelled)" : "exit_task");
        }

        @Override
        public void enable(Task p) {
            rec(p, "enable");
        }

        @Override
        public void disable(Task p) {
            rec(p, "disable");
        }

        @Override
        public int init() {
            global.add("init");
            return 0;
        }

        @Override
        public void exit(ExitInfo info) {
            global.add("exit:" + info.kindName());
        }
    }

    @Test
    void initTaskOncePerTaskEnableDisablePairedExitTaskAtUnload() {
        try (Stepped s = new Stepped(2)) {
            List<Task> pre = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                pre.add(s.fork("pre" + i));
            }
            s.runFor(3_000_000L, 1_000_000L);
            Counting c = new Counting();
            assertEquals(0, s.load(c));
            assertEquals(List.of("init"), c.global);
            for (Task p : pre) {
                assertEquals(List.of("init_task", "enable"), c.of(p), p.toString());
                assertEquals(SchedClass.EXT, p.schedClass());
                assertEquals(SCX_TASK_ENABLED, p.scx.taskState());
            }
            List<Task> post = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                post.add(s.fork("post" + i));
            }
            for (Task p : post) {
                assertEquals(List.of("init_task(fork)", "enable"), c.of(p), p.toString());
            }
            Task dies = s.fork(new Kernel.TaskSpec().comm("dies").behavior(Stepped.runThenExit(1_000_000L)));
            s.runFor(200_000_000L, 1_000_000L);
            assertTrue(dies.isDead());
            assertEquals(List.of("init_task(fork)", "enable", "disable", "exit_task"), c.of(dies),
                    "a task that exits while on SCX is disabled, then exit_task'ed");
            assertFalse(s.k.tasks().contains(dies));
            s.m.unload();
            assertEquals(List.of("init", "exit:UNREG"), c.global);
            List<Task> all = new ArrayList<>(pre);
            all.addAll(post);
            for (Task p : all) {
                List<String> l = c.of(p);
                assertEquals(4, l.size(), p + ": " + l);
                assertEquals("disable", l.get(2));
                assertEquals("exit_task", l.get(3));
                assertEquals(SchedClass.FAIR, p.schedClass());
                assertEquals(SCX_TASK_NONE, p.scx.taskState());
            }
            // nothing is called after the unload
            Task late = s.fork("late");
            assertTrue(c.of(late).isEmpty());
            s.runFor(20_000_000L, 1_000_000L);
            assertTrue(late.sumExecRuntime() > 0);
        }
    }

    @Test
    void failedInitTaskAtForkFailsTheFork() {
        try (Stepped s = new Stepped(1)) {
            Counting c = new Counting();
            assertEquals(0, s.load(c));
            c.initTaskRet = -ENOMEM;
            assertNull(s.fork("refused"), "fork fails when ops.init_task() fails");
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
            c.initTaskRet = 0;
            assertTrue(s.fork("ok") != null);
        }
    }

    @Test
    void failedInitTaskAtLoadEjects() {
        // 6.12 and later (V7ExactTest: v7 refuses the load)
        try (Stepped s = new Stepped(1, CoreProfile.V6_12)) {
            Task p = s.fork("victim");
            Counting c = new Counting();
            c.initTaskRet = -ENOMEM;
            assertEquals(0, s.load(c), "failures after ENABLING still report attach success");
            ExitInfo ei = s.ext.exitInfo();
            assertEquals("ERROR", ei.kindName());
            assertEquals("ops.init_task() failed (-12) for victim[" + p.pid + "]", ei.msg());
            assertEquals(SchedClass.FAIR, p.schedClass());
        }
    }

    @Test
    void initFailureEjects() {
        // 6.12 and later (V7ExactTest: v7 refuses the load)
        try (Stepped s = new Stepped(1, CoreProfile.V6_12)) {
            Counting c = new Counting() {
                @Override
                public int init() {
                    return -EINVAL;
                }
            };
            assertEquals(0, s.load(c));
            assertEquals("ERROR", s.ext.exitInfo().kindName());
            assertEquals("ops.init() failed (-22)", s.ext.exitInfo().msg());
            assertEquals(Ext.SCX_OPS_DISABLED, s.ext.enableState());
        }
    }

    @Test
    void loadWhileLoadedIsEbusy() {
        try (Stepped s1 = new Stepped(1); Stepped s2 = new Stepped(1)) {
            assertEquals(0, s1.load(() -> "first"));
            assertEquals(-EBUSY, s2.load(() -> "second"));
            assertEquals(-EBUSY, s1.load(() -> "again"));
            assertEquals(Ext.SCX_OPS_DISABLED, s2.ext.enableState());
            assertEquals(Ext.SCX_OPS_ENABLED, s1.ext.enableState());
            s1.m.unload();
            assertEquals(0, s2.load(() -> "second"));
            assertEquals(Ext.SCX_OPS_ENABLED, s2.ext.enableState());
            s2.m.unload();
            // reload_loop: load and unload again and again
            for (int i = 0; i < 20; i++) {
                Stepped which = (i & 1) == 0 ? s1 : s2;
                assertEquals(0, which.load(() -> "reload"), "iteration " + i);
                which.m.unload();
                assertEquals(Ext.SCX_OPS_DISABLED, which.ext.enableState());
            }
        }
    }

    @Test
    void invalidLoadParametersAreRejected() {
        try (Stepped s = new Stepped(1)) {
            assertEquals(-EINVAL, s.load(() -> ""));
            assertEquals(-EINVAL, s.load(() -> "has space"));
            assertEquals(-EINVAL, s.load(() -> "bad-dash"));
            assertEquals(-EINVAL, s.load(() -> "x".repeat(SCX_OPS_NAME_LEN)));
            assertEquals(-EINVAL, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "badflags";
                }

                @Override
                public long flags() {
                    return 1L << 20;
                }
            }));
            assertEquals(-E2BIG, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "long_timeout";
                }

                @Override
                public int timeoutMs() {
                    return 30_001;
                }
            }));
            assertEquals(Ext.SCX_OPS_DISABLED, s.ext.enableState());
            assertFalse(ScxKeys.SCX_OPS_ENABLED.enabled());
            assertEquals(0, s.load(() -> "ok_name.1"));
            assertEquals(Ext.SCX_OPS_ENABLED, s.ext.enableState());
        }
    }

    @Test
    void enqLastWithoutEnqueueIsEjected() {
        // 6.12 and later (V7ExactTest: v7 refuses the load)
        try (Stepped s = new Stepped(1, CoreProfile.V6_12)) {
            Counting c = new Counting();
            c.opsFlags = SCX_OPS_ENQ_LAST;
            assertEquals(0, s.load(c), "6.12 / later selftest: attach succeeds, then the scheduler is ejected");
            ExitInfo ei = s.ext.exitInfo();
            assertEquals("ERROR", ei.kindName());
            assertEquals("SCX_OPS_ENQ_LAST requires ops.enqueue() to be implemented", ei.msg());
            assertEquals(List.of("init", "exit:ERROR"), c.global, "reported after ops.init() ran");
            assertEquals(Ext.SCX_OPS_DISABLED, s.ext.enableState());
            assertFalse(ScxKeys.SCX_OPS_ENQ_LAST.enabled());
        }
    }

    @Test
    void switchPartialOnlyTakesSchedExtTasks() {
        try (Stepped s = new Stepped(2)) {
            Task extPre = s.fork(new Kernel.TaskSpec().comm("ext_pre").policy(Task.SCHED_EXT));
            // fair is above ext in partial mode: the fair tasks sleep, or ext would starve
            Task fairPre = s.fork(new Kernel.TaskSpec().comm("fair_pre").behavior(Stepped.sleeper(1_000_000L,
                    3_000_000L)));
            Counting c = new Counting();
            c.opsFlags = SCX_OPS_SWITCH_PARTIAL;
            assertEquals(0, s.load(c));
            assertTrue(ScxKeys.SCX_OPS_ENABLED.enabled());
            assertFalse(ScxKeys.SCX_SWITCHED_ALL.enabled());
            assertTrue(s.ext.dmesg().contains("sched_ext: BPF scheduler \"init_enable_count\" enabled (partial)"));
            Task extPost = s.fork(new Kernel.TaskSpec().comm("ext_post").policy(Task.SCHED_EXT));
            Task fairPost = s.fork(new Kernel.TaskSpec().comm("fair_post").behavior(Stepped.sleeper(1_000_000L,
                    3_000_000L)));
            assertEquals(SchedClass.EXT, extPre.schedClass());
            assertEquals(SchedClass.EXT, extPost.schedClass());
            assertEquals(SchedClass.FAIR, fairPre.schedClass());
            assertEquals(SchedClass.FAIR, fairPost.schedClass());
            // every task is initialised; only SCHED_EXT ones are enabled
            assertEquals(List.of("init_task", "enable"), c.of(extPre));
            assertEquals(List.of("init_task"), c.of(fairPre));
            assertEquals(List.of("init_task(fork)", "enable"), c.of(extPost));
            assertEquals(List.of("init_task(fork)"), c.of(fairPost));
            s.runFor(100_000_000L, 1_000_000L);
            for (Task p : List.of(extPre, fairPre, extPost, fairPost)) {
                assertTrue(p.sumExecRuntime() > 0, p + " never ran");
            }
            s.m.unload();
            assertEquals(List.of("init_task", "enable", "disable", "exit_task"), c.of(extPre));
            assertEquals(List.of("init_task", "exit_task"), c.of(fairPre));
            assertEquals(SchedClass.FAIR, extPre.schedClass());
        }
    }

    @Test
    void setWeightFollowsEnableWithTheCgroupScaledWeight() {
        try (Stepped s = new Stepped(1)) {
            Map<String, Integer> weights = new HashMap<>();
            List<String> order = new ArrayList<>();
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "weights";
                }

                @Override
                public void enable(Task p) {
                    order.add("enable:" + p.comm);
                }

                @Override
                public void setWeight(Task p, int weight) {
                    order.add("set_weight:" + p.comm);
                    weights.put(p.comm, weight);
                }
            }));
            s.fork(new Kernel.TaskSpec().comm("n0"));
            s.fork(new Kernel.TaskSpec().comm("nm20").nice(-20));
            s.fork(new Kernel.TaskSpec().comm("n19").nice(19));
            assertEquals(100, weights.get("n0"));
            assertEquals(8668, weights.get("nm20"), "scx_qmap's nice -20 threshold");
            assertEquals(1, weights.get("n19"));
            assertEquals(List.of("enable:n0", "set_weight:n0"), order.subList(0, 2));
        }
    }

    @Test
    void staticKeysFollowLoadAndUnload() {
        try (Stepped s = new Stepped(1)) {
            assertFalse(ScxKeys.SCX_OPS_ENABLED.enabled());
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "keys";
                }

                @Override
                public long flags() {
                    return SCX_OPS_ENQ_LAST | SCX_OPS_ENQ_EXITING;
                }

                @Override
                public void enqueue(Task p, long enqFlags) {
                    scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, enqFlags);
                }
            }));
            assertTrue(ScxKeys.SCX_OPS_ENABLED.enabled());
            assertTrue(ScxKeys.HAS_ENQUEUE.enabled());
            assertFalse(ScxKeys.HAS_DISPATCH.enabled());
            assertTrue(ScxKeys.SCX_OPS_ENQ_LAST.enabled());
            assertTrue(ScxKeys.SCX_OPS_ENQ_EXITING.enabled());
            assertTrue(ScxKeys.SCX_BUILTIN_IDLE_ENABLED.enabled());
            assertFalse(ScxKeys.SCX_OPS_CPU_PREEMPT.enabled());
            s.m.unload();
            for (StaticKey k : ScxKeys.all()) {
                assertFalse(k.enabled(), k.name());
            }
        }
    }
}
