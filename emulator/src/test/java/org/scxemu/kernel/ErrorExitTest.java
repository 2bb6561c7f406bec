// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.scx.Scx.*;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.scxemu.scx.SchedExtOps;

/**
 * Ejections and exits: the selftests ddsp_bogus_dsq_fail, ddsp_vtimelocal_fail,
 * select_cpu_dispatch_bad_dsq, select_cpu_dispatch_dbl_dsp and exit; the watchdog; first exit
 * wins; the dump; the state after an error.
 */
class ErrorExitTest {

    private static void assertErrorEjected(Stepped s, int kind, String msg) {
        ExitInfo ei = s.finishExit();
        assertEquals(ExitInfo.kindName(kind), ei.kindName(), "exit kind; msg=" + ei.msg());
        assertEquals(msg, ei.msg());
        assertEquals(Ext.SCX_OPS_DISABLED, s.ext.enableState());
        assertFalse(ScxKeys.SCX_OPS_ENABLED.enabled());
        for (Task p : s.k.tasks()) {
            assertEquals(SchedClass.FAIR, p.schedClass(), p + " not back on fair");
        }
    }

    @Test
    void selectCpuDispatchToNonExistentDsqIsAnError() {
        try (Stepped s = new Stepped(2)) {
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "select_cpu_dispatch_bad_dsq";
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    scx_bpf_dispatch(p, 0xcafef00dL, SCX_SLICE_DFL, 0);
                    return prevCpu;
                }
            }));
            Task p = s.fork("bogus");
            assertErrorEjected(s, SCX_EXIT_ERROR, "non-existent DSQ 0xcafef00d for bogus[" + p.pid + "]");
            assertEquals("runtime error", s.ext.exitInfo().reason());
            // the task still runs, on fair
            s.runFor(5_000_000L, 1_000_000L);
            assertTrue(p.sumExecRuntime() > 0);
        }
    }

    @Test
    void ddspBogusDsqVtimeIsAnError() {
        try (Stepped s = new Stepped(2)) {
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "ddsp_bogus_dsq_fail";
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    scx_bpf_dispatch_vtime(p, 0xcafef00dL, SCX_SLICE_DFL, 100, 0);
                    return prevCpu;
                }
            }));
            Task p = s.fork("bogus");
            // the lookup fails first; the PRIQ-on-builtin error that follows loses the race
            assertErrorEjected(s, SCX_EXIT_ERROR, "non-existent DSQ 0xcafef00d for bogus[" + p.pid + "]");
        }
    }

    @Test
    void vtimeDispatchToLocalIsAnError() {
        try (Stepped s = new Stepped(2)) {
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "ddsp_vtimelocal_fail";
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    scx_bpf_dispatch_vtime(p, SCX_DSQ_LOCAL, SCX_SLICE_DFL, 0, 0);
                    return prevCpu;
                }
            }));
            s.fork("vt");
            assertErrorEjected(s, SCX_EXIT_ERROR, "cannot use vtime ordering for built-in DSQs");
        }
    }

    @Test
    void doubleDirectDispatchIsAnError() {
        try (Stepped s = new Stepped(2)) {
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "select_cpu_dispatch_dbl_dsp";
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, 0);
                    scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, 0);
                    return prevCpu;
                }
            }));
            Task p = s.fork("dbl");
            assertErrorEjected(s, SCX_EXIT_ERROR, "dbl[" + p.pid + "] already direct-dispatched");
        }
    }

    @Test
    void directDispatchOfAnotherTaskIsAnError() {
        try (Stepped s = new Stepped(2)) {
            Task[] other = new Task[1];
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "ddsp_other";
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    if (other[0] != null && other[0] != p) {
                        scx_bpf_dispatch(other[0], SCX_DSQ_GLOBAL, SCX_SLICE_DFL, 0);
                    }
                    return prevCpu;
                }
            }));
            other[0] = s.fork("first");
            Task p = s.fork("second");
            assertErrorEjected(s, SCX_EXIT_ERROR, "scheduling for second[" + p.pid
                    + "] but trying to direct-dispatch first[" + other[0].pid + "]");
        }
    }

    /** exit_test.h: the op that calls scx_bpf_exit(tc, "%d", tc); tc is the ordinal. */
    enum ExitPoint {
        SELECT_CPU, ENQUEUE, DISPATCH, ENABLE, INIT_TASK, INIT
    }

    /** tools/testing/selftests/sched_ext/exit.bpf.c */
    private static final class ExitSched implements SchedExtOps {
        static final long DSQ_ID = 0;
        final ExitPoint point;
        final int tc;

        ExitSched(ExitPoint point) {
            this.point = point;
            this.tc = point.ordinal();
        }

        @Override
        public String name() {
            return "exit";
        }

        @Override
        public int selectCpu(Task p, int prevCpu, long wakeFlags) {
            if (point == ExitPoint.SELECT_CPU) {
                scx_bpf_exit(tc, "%d", tc);
            }
            boolean[] idle = new boolean[1];
            return scx_bpf_select_cpu_dfl(p, prevCpu, wakeFlags, idle);
        }

        @Override
        public void enqueue(Task p, long enqFlags) {
            if (point == ExitPoint.ENQUEUE) {
                scx_bpf_exit(tc, "%d", tc);
            }
            scx_bpf_dispatch(p, DSQ_ID, SCX_SLICE_DFL, enqFlags);
        }

        @Override
        public void dispatch(int cpu, Task prev) {
            if (point == ExitPoint.DISPATCH) {
                scx_bpf_exit(tc, "%d", tc);
            }
            scx_bpf_consume(DSQ_ID);
        }

        @Override
        public void enable(Task p) {
            if (point == ExitPoint.ENABLE) {
                scx_bpf_exit(tc, "%d", tc);
            }
        }

        @Override
        public int initTask(Task p, InitTaskArgs args) {
            if (point == ExitPoint.INIT_TASK) {
                scx_bpf_exit(tc, "%d", tc);
            }
            return 0;
        }

        @Override
        public int init() {
            if (point == ExitPoint.INIT) {
                scx_bpf_exit(tc, "%d", tc);
            }
            return scx_bpf_create_dsq(DSQ_ID, -1);
        }
    }

    @ParameterizedTest
    @EnumSource(ExitPoint.class)
    void scxBpfExitFromEachOpIsUnregBpf(ExitPoint point) {
        try (Stepped s = new Stepped(2)) {
            Task before = s.fork("before");
            assertEquals(0, s.load(new ExitSched(point)));
            s.fork("after");
            s.runFor(3_000_000L, 1_000_000L);
            ExitInfo ei = s.finishExit();
            assertEquals("UNREG_BPF", ei.kindName());
            assertEquals(point.ordinal(), ei.exitCode());
            assertEquals(String.valueOf(point.ordinal()), ei.msg());
            assertEquals("unregistered from BPF", ei.reason());
            assertEquals("", ei.dump(), "no dump for a non-error exit");
            assertEquals(Ext.SCX_OPS_DISABLED, s.ext.enableState());
            assertEquals(SchedClass.FAIR, before.schedClass());
        }
    }

    /** A scheduler that keeps every task to itself: nothing is ever dispatched. */
    private static SchedExtOps neverDispatches(int timeoutMs) {
        return new SchedExtOps() {
            @Override
            public String name() {
                return "stall";
            }

            @Override
            public int timeoutMs() {
                return timeoutMs;
            }

            @Override
            public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                return prevCpu;
            }

            @Override
            public void enqueue(Task p, long enqFlags) {
            }
        };
    }

    private static final Pattern STALL = Pattern.compile("^\\S+\\[\\d+\\] failed to run for \\d+\\.\\d{3}s$");

    @Test
    void neverDispatchingIsAStall() {
        try (Stepped s = new Stepped(1)) {
            assertEquals(0, s.load(neverDispatches(200)));
            Task p = s.fork("staller");
            s.settle();
            assertEquals(SCX_OPSS_QUEUED, p.scx.opsState() & SCX_OPSS_STATE_MASK);
            s.clock.advance(150_000_000L);
            assertFalse(s.ext.watchdogWorkfn(), "stall reported before the timeout");
            s.clock.advance(900_000_000L);
            assertTrue(s.ext.watchdogWorkfn());
            ExitInfo ei = s.finishExit();
            assertEquals("ERROR_STALL", ei.kindName());
            assertEquals("runnable task stall", ei.reason());
            assertTrue(STALL.matcher(ei.msg()).matches(), "stall message: " + ei.msg());
            assertEquals("staller[" + p.pid + "] failed to run for 1.050s", ei.msg());
            assertEquals(SchedClass.FAIR, p.schedClass());
            assertTrue(ei.dump().contains("\n  R staller[" + p.pid + "] -1050ms\n"), ei.dump());
        }
    }

    @Test
    void stallMessageWithThreeDigitMillis() {
        try (Stepped s = new Stepped(1)) {
            assertEquals(0, s.load(neverDispatches(200)));
            Task p = s.fork("staller");
            s.settle();
            s.clock.advance(1_250_000_000L);
            assertTrue(s.ext.watchdogWorkfn());
            ExitInfo ei = s.finishExit();
            assertEquals("ERROR_STALL", ei.kindName());
            assertEquals("staller[" + p.pid + "] failed to run for 1.250s", ei.msg());
        }
    }

    @Test
    void runnableAtIsNotResetByADequeueThatDidNotRun() {
        try (Stepped s = new Stepped(1)) {
            assertEquals(0, s.load(neverDispatches(200)));
            Task p = s.fork("staller");
            s.clock.advance(150_000_000L);
            Rq rq = s.rq(0);
            rq.lock.lock();
            try {
                s.k.requeue(rq, p); // a dequeue/enqueue cycle (DEQUEUE_SAVE): p did not run
            } finally {
                rq.lock.unlock();
            }
            s.clock.advance(100_000_000L);
            assertTrue(s.ext.watchdogWorkfn(), "the requeue restarted the stall clock");
            assertEquals("staller[" + p.pid + "] failed to run for 0.250s", s.finishExit().msg());
        }
    }

    @Test
    void aTaskThatRunsIsNotAStall() {
        try (Stepped s = new Stepped(1)) {
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "nostall";
                }

                @Override
                public int timeoutMs() {
                    return 200;
                }
            }));
            s.fork("a");
            s.fork("b");
            for (int i = 0; i < 10; i++) {
                s.runFor(100_000_000L, 1_000_000L);
                assertFalse(s.ext.watchdogWorkfn());
            }
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
        }
    }

    @Test
    void firstExitWins() {
        try (Stepped s = new Stepped(1)) {
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "first";
                }

                @Override
                public void enqueue(Task p, long enqFlags) {
                    scx_bpf_exit(7, "first %s", "exit");
                    scx_bpf_error("second");
                    scx_bpf_dispatch(p, 0xbadL, SCX_SLICE_DFL, 0);
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    return prevCpu;
                }
            }));
            s.fork("t");
            ExitInfo ei = s.finishExit();
            assertEquals("UNREG_BPF", ei.kindName());
            assertEquals(7, ei.exitCode());
            assertEquals("first exit", ei.msg());
        }
    }

    private static final Pattern CPU_LINE =
            Pattern.compile("(?m)^CPU \\d+ *: nr_run=\\d+ flags=0x[0-9a-f]+ cpu_rel=[01] ops_qseq=\\d+ pnt_seq=\\d+$");
    private static final Pattern CURR_LINE = Pattern.compile("(?m)^ {10}curr=\\S+\\[\\d+\\] class=\\w+$");
    private static final Pattern TASK_LINE = Pattern.compile("(?m)^ [* ][RSX] \\S+\\[\\d+\\] [+-]\\d+ms$");

    @Test
    void errorDumpsStateAndEveryTaskGoesBackToFair() {
        try (Stepped s = new Stepped(2)) {
            Map<Task, Integer> exitTask = new HashMap<>();
            List<Task> initTask = new ArrayList<>();
            boolean[] fail = new boolean[1];
            List<Task> pre = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                pre.add(s.fork("pre" + i));
            }
            s.runFor(2_000_000L, 1_000_000L);
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "dumper";
                }

                @Override
                public void tick(Task p) {
                    if (fail[0]) {
                        scx_bpf_error("boom %d", 42);
                    }
                }

                @Override
                public int initTask(Task p, InitTaskArgs args) {
                    initTask.add(p);
                    return 0;
                }

                @Override
                public void exitTask(Task p, ExitTaskArgs args) {
                    exitTask.merge(p, 1, Integer::sum);
                }

                @Override
                public void dump(DumpCtx ctx) {
                    scx_bpf_dump("dumper: kind=%d", ctx.kind());
                }

                @Override
                public void dumpCpu(DumpCtx ctx, int cpu, boolean idle) {
                    scx_bpf_dump("dump_cpu %d idle=%d", cpu, idle ? 1 : 0);
                }

                @Override
                public void dumpTask(DumpCtx ctx, Task p) {
                    scx_bpf_dump("dump_task %s", p.comm);
                }
            }));
            for (int i = 0; i < 3; i++) {
                s.fork("post" + i);
            }
            s.runFor(3_000_000L, 1_000_000L);
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
            fail[0] = true;
            s.clock.advance(1_000_000L); // the next tick reports the error
            s.step(0);
            s.step(1);
            assertEquals(SCX_EXIT_ERROR_BPF, s.ext.exitKind());
            ExitInfo ei = s.finishExit();
            assertEquals("ERROR_BPF", ei.kindName());
            assertEquals("boom 42", ei.msg());
            assertEquals("scx_bpf_error", ei.reason());
            assertFalse(ei.bt().isEmpty(), "an error carries a backtrace");
            String dump = ei.dump();
            assertTrue(Pattern.compile("(?m)^\\S+\\[\\d+\\] triggered exit kind 1025:$").matcher(dump).find(), dump);
            assertTrue(dump.contains("\n  scx_bpf_error (boom 42)\n"), dump);
            assertTrue(dump.contains("\nBacktrace:\n"), dump);
            assertTrue(dump.contains("\ndumper: kind=1025\n"), dump);
            assertTrue(dump.contains("\nCPU states\n----------\n"), dump);
            Matcher cm = CPU_LINE.matcher(dump);
            int cpuLines = 0;
            while (cm.find()) {
                cpuLines++;
            }
            assertEquals(2, cpuLines, dump);
            assertTrue(CURR_LINE.matcher(dump).find(), dump);
            assertTrue(dump.contains("\n  dump_cpu 0 idle="), dump);
            assertTrue(TASK_LINE.matcher(dump).find(), dump);
            assertTrue(dump.contains("\n    dump_task "), dump);
            assertTrue(Pattern.compile("(?m)^      scx_state/flags=\\d+/0x[0-9a-f]+ dsq_flags=0x[0-9a-f]+ "
                    + "ops_state/qseq=\\d+/\\d+$").matcher(dump).find(), dump);
            assertTrue(Pattern.compile("(?m)^      sticky/holding_cpu=-?\\d+/-?\\d+ dsq_id=(\\(n/a\\)|0x[0-9a-f]+) "
                    + "dsq_vtime=\\d+$").matcher(dump).find(), dump);
            // every task back on fair, exit_task exactly once for each initialised task
            List<Task> all = s.k.tasks();
            assertEquals(6, all.size());
            for (Task p : all) {
                assertEquals(SchedClass.FAIR, p.schedClass(), p.toString());
                assertEquals(SCX_TASK_NONE, p.scx.taskState(), p.toString());
                assertEquals(1, exitTask.getOrDefault(p, 0), "exit_task of " + p);
            }
            assertEquals(6, initTask.size());
            assertTrue(s.ext.dmesg().contains("sched_ext: BPF scheduler \"dumper\" disabled (scx_bpf_error)"),
                    s.ext.dmesg().toString());
            assertTrue(s.ext.dmesg().contains("sched_ext: dumper: boom 42"), s.ext.dmesg().toString());
            // the machine keeps running them
            long[] before = new long[all.size()];
            for (int i = 0; i < all.size(); i++) {
                before[i] = all.get(i).sumExecRuntime();
            }
            s.runFor(60_000_000L, 1_000_000L);
            for (int i = 0; i < all.size(); i++) {
                assertTrue(all.get(i).sumExecRuntime() > before[i], all.get(i) + " did not run on fair");
            }
        }
    }

    @Test
    void dumpIsTruncatedToExitDumpLen() {
        try (Stepped s = new Stepped(2)) {
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "short_dump";
                }

                @Override
                public int exitDumpLen() {
                    return 200;
                }

                @Override
                public void enqueue(Task p, long enqFlags) {
                    scx_bpf_error("x");
                }
            }));
            s.fork("a");
            s.fork("b");
            s.fork("c");
            String dump = s.finishExit().dump();
            assertTrue(dump.endsWith("\n\n~~~~ TRUNCATED ~~~~\n"), dump);
            // scx_dump_state(): seq_buf of exit_dump_len bytes, the marker copied over its end
            assertTrue(dump.length() <= 200, "dump of " + dump.length() + " chars exceeds exit_dump_len 200");
        }
    }

    @Test
    void kickIdleWithPreemptIsAnError() {
        try (Stepped s = new Stepped(2)) {
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "badkick";
                }

                @Override
                public void enqueue(Task p, long enqFlags) {
                    scx_bpf_kick_cpu(1, SCX_KICK_IDLE | SCX_KICK_PREEMPT);
                    scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, enqFlags);
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    return prevCpu;
                }
            }));
            s.fork("k");
            assertErrorEjected(s, SCX_EXIT_ERROR, "PREEMPT/WAIT cannot be used with SCX_KICK_IDLE");
        }
    }

    @Test
    void kickWithIdleAndWaitIsAnError() {
        try (Stepped s = new Stepped(2)) {
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "badkick";
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    scx_bpf_kick_cpu(1, SCX_KICK_IDLE | SCX_KICK_WAIT);
                    return prevCpu;
                }
            }));
            s.fork("k");
            assertErrorEjected(s, SCX_EXIT_ERROR, "PREEMPT/WAIT cannot be used with SCX_KICK_IDLE");
        }
    }

    @Test
    void invalidCpuFromSelectCpuIsAnError() {
        try (Stepped s = new Stepped(2)) {
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "badcpu";
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    return 9;
                }
            }));
            s.fork("t");
            assertErrorEjected(s, SCX_EXIT_ERROR, "invalid CPU 9 from ops.select_cpu()");
        }
    }

    @Test
    void anOpThatThrowsIsEjectedNotUnwound() {
        try (Stepped s = new Stepped(1)) {
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "thrower";
                }

                @Override
                public void enqueue(Task p, long enqFlags) {
                    throw new IllegalStateException("oops");
                }

                @Override
                public int selectCpu(Task p, int prevCpu, long wakeFlags) {
                    return prevCpu;
                }
            }));
            Task p = s.fork("t");
            assertEquals(SCX_EXIT_ERROR_BPF, s.ext.exitKind());
            s.finishExit();
            s.runFor(3_000_000L, 1_000_000L);
            assertTrue(p.sumExecRuntime() > 0);
            assertEquals(null, s.k.bug());
        }
    }
}
