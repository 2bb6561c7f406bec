// SPDX-License-Identifier: GPL-2.0-only
package com.example;

import static org.scxemu.scx.Scx.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.scxemu.kernel.Task;
import org.scxemu.scx.SchedExtOps;

/**
 * A global FIFO that misbehaves on purpose in one op, for the robustness tests. The op is named
 * by the system property hostile.op (the kernel's op name: enqueue, dispatch, select_cpu, init,
 * exit, exit_task, stats_line, ...), the misbehaviour by hostile.act:
 * throw, error (an Error), loop (never returns), sleep (10 s), thread (an exception on a thread
 * it starts), late-kfunc (a kfunc from its own thread after the unload), stale (a task kept from
 * an earlier call dispatched from a kfunc-less op), oom (allocates until OutOfMemoryError), exit
 * (System.exit(0)). A loop ends when the property hostile.release is set, so an in-process test
 * can let the stuck thread go once the run has been reported.
 */
public class Hostile implements SchedExtOps {
    static final long SHARED_DSQ = 0;
    private final String op = System.getProperty("hostile.op", "");
    private final String act = System.getProperty("hostile.act", "");
    private final int timeout = Integer.getInteger("hostile.timeout_ms", 1000);
    private volatile Task stale;
    private volatile boolean done;

    private void misbehave(String where) {
        if (done || !op.equals(where)) {
            return;
        }
        switch (act) {
            case "throw":
                throw new IllegalStateException("hostile " + where);
            case "error":
                throw new NoClassDefFoundError("com/example/Missing");
            case "loop":
                done = true;
                long n = 0;
                while (System.getProperty("hostile.release") == null) {
                    n++;
                }
                break;
            case "sleep":
                done = true;
                try {
                    Thread.sleep(10_000);
                } catch (InterruptedException e) {
                    throw new IllegalStateException("interrupted in " + where, e);
                }
                break;
            case "thread":
                done = true;
                Thread t = new Thread(() -> {
                    throw new IllegalStateException("hostile thread from " + where);
                }, "hostile-" + where);
                t.start();
                break;
            case "late-kfunc":
                done = true;
                Thread late = new Thread(() -> {
                    try {
                        Thread.sleep(Long.getLong("hostile.late_ms", 3000));
                    } catch (InterruptedException e) {
                        return;
                    }
                    scx_bpf_kick_cpu(0, 0);
                }, "hostile-late");
                late.setDaemon(true);
                late.start();
                break;
            case "stale":
                Task p = stale;
                if (p != null) {
                    done = true;
                    scx_bpf_dispatch(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, 0);
                }
                break;
            case "oom":
                done = true;
                List<long[]> hog = new ArrayList<>();
                for (;;) {
                    hog.add(new long[1 << 24]);
                }
            case "exit":
                System.exit(0);
                break;
            default:
                break;
        }
    }

    @Override
    public String name() {
        misbehave("name");
        return "hostile";
    }

    @Override
    public int timeoutMs() {
        return timeout;
    }

    @Override
    public int init() {
        misbehave("init");
        return scx_bpf_create_dsq(SHARED_DSQ, -1);
    }

    @Override
    public void exit(org.scxemu.kernel.ExitInfo info) {
        misbehave("exit");
    }

    @Override
    public int selectCpu(Task p, int prevCpu, long wakeFlags) {
        misbehave("select_cpu");
        return prevCpu;
    }

    @Override
    public void enqueue(Task p, long enqFlags) {
        stale = p;
        misbehave("enqueue");
        scx_bpf_dispatch(p, SHARED_DSQ, SCX_SLICE_DFL, enqFlags);
    }

    @Override
    public void dispatch(int cpu, Task prev) {
        misbehave("dispatch");
        scx_bpf_consume(SHARED_DSQ);
    }

    @Override
    public void tick(Task p) {
        misbehave("tick");
    }

    @Override
    public void running(Task p) {
        misbehave("running");
    }

    @Override
    public void stopping(Task p, boolean runnable) {
        misbehave("stopping");
    }

    @Override
    public void exitTask(Task p, SchedExtOps.ExitTaskArgs args) {
        misbehave("exit_task");
    }

    @Override
    public Map<String, Long> stats() {
        misbehave("stats");
        return Map.of("nr_hostile", 1L);
    }

    @Override
    public String statsLine() {
        misbehave("stats_line");
        return "hostile: " + op + " " + act;
    }
}
