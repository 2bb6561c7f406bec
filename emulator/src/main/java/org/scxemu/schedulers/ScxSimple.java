// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.schedulers;

import static org.scxemu.scx.Scx.*;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.scxemu.kernel.ExitInfo;
import org.scxemu.kernel.Task;
import org.scxemu.scx.SchedExtOps;

/**
 * scx_simple: a simple scheduler (port of {@code tools/sched_ext/scx_simple.bpf.c} and
 * {@code scx_simple.c}).
 *
 * <p>By default it is a global weighted-vtime scheduler; {@code fifoSched} switches it to global
 * FIFO. It demonstrates:
 * <ul>
 *   <li>direct dispatch from {@code ops.select_cpu()} to {@code SCX_DSQ_LOCAL} when
 *       {@code scx_bpf_select_cpu_dfl()} found an idle CPU;
 *   <li>a user DSQ ({@code SHARED_DSQ}, created in the sleepable {@code ops.init()}) used as a
 *       FIFO or, with {@code scx_bpf_dispatch_vtime()}, as a priority queue; built-in DSQs such
 *       as {@code SCX_DSQ_GLOBAL} cannot be priority queues;
 *   <li>weighted vtime: {@code ops.stopping()} charges the slice used, scaled by the inverse of
 *       the weight; {@code ops.running()} advances the global {@code vtime_now};
 *       {@code ops.enable()} starts a task at {@code vtime_now}; {@code ops.enqueue()} limits the
 *       budget an idle task can bank to one slice;
 *   <li>statistics of how many tasks were queued to the local and the global (shared) DSQ, and
 *       the exit notification for user space ({@code ops.exit()} records the exit info).
 * </ul>
 * There is no preemption; on machines whose CPUs share their caches evenly that matters little,
 * because with one queue for all CPUs the task at its head gets a CPU soon. FIFO mode can help
 * some workloads but lets CPU hogs crowd out interactive tasks, as FIFOs do.
 *
 * <p>On one CPU, note that the core calls {@code ops.dispatch()} before it re-enqueues the task
 * whose slice ended, so when exactly two tasks compete, whatever their weights, they alternate;
 * weights show with three or more.
 *
 * <p>Counters ({@link #stats()}): {@code local} (tasks dispatched straight to an idle CPU's local
 * DSQ from select_cpu), {@code global} (tasks that went through {@code ops.enqueue()} into
 * {@code SHARED_DSQ}). The user-space half prints {@link #statsLine()} once a second:
 * {@code "local=%llu global=%llu"}.
 *
 * <p>Threads: the BPF original updates its {@code vtime_now} global racily and accepts the
 * temporary error; here it is an {@link AtomicLong} advanced with a CAS-max, so it only moves
 * forward. The per-CPU stats array becomes two {@link LongAdder}s (select_cpu also runs on waker
 * threads that are no CPU, where there is no per-CPU slot). {@code p->scx.dsq_vtime} is read and
 * written only from ops that hold the task's rq lock.
 *
 * <p>Memory consistency effects: none of its own beyond the kernel's locks; {@link #stats()} and
 * {@link #statsLine()} read the counters racily, as user space reads the BPF maps.
 */
public final class ScxSimple implements SchedExtOps {
    /**
     * The user DSQ everything is queued on: built-in DSQs cannot be priority queues, so a
     * separate one is needed for the vtime mode (FIFO-only could use SCX_DSQ_GLOBAL).
     */
    static final long SHARED_DSQ = 0;

    /** const volatile bool fifo_sched (rodata: fixed at load). */
    private final boolean fifoSched;
    /** static u64 vtime_now: any thread, CAS-max (see the class comment). */
    private final AtomicLong vtimeNow = new AtomicLong();
    /** stats[0] (local) and stats[1] (global): any thread. */
    private final LongAdder statLocal = new LongAdder();
    private final LongAdder statGlobal = new LongAdder();
    /** UEI_DEFINE(uei): written by ops.exit(), read by the user-space half. */
    private volatile ExitInfo uei;

    /** Scratch for scx_bpf_select_cpu_dfl()'s is_idle, per thread: select_cpu allocates nothing. */
    private static final ThreadLocal<boolean[]> IS_IDLE = ThreadLocal.withInitial(() -> new boolean[1]);

    /** {@code scx_simple [-f]}: {@code fifoSched} is {@code -f}. */
    public ScxSimple(boolean fifoSched) {
        this.fifoSched = fifoSched;
    }

    /** (s64)(a - b) &lt; 0: wrap-safe vtime comparison. */
    static boolean vtimeBefore(long a, long b) {
        return a - b < 0;
    }

    @Override
    public String name() {
        return "simple";
    }

    /** simple_select_cpu() */
    @Override
    public int selectCpu(Task p, int prevCpu, long wakeFlags) {
        boolean[] isIdle = IS_IDLE.get();
        isIdle[0] = false;
        int cpu = scx_bpf_select_cpu_dfl(p, prevCpu, wakeFlags, isIdle);
        if (isIdle[0]) {
            statLocal.increment(); // stat: local
            scx_bpf_dispatch(p, SCX_DSQ_LOCAL, SCX_SLICE_DFL, 0);
        }
        return cpu;
    }

    /** simple_enqueue() */
    @Override
    public void enqueue(Task p, long enqFlags) {
        statGlobal.increment(); // stat: global
        if (fifoSched) {
            scx_bpf_dispatch(p, SHARED_DSQ, SCX_SLICE_DFL, enqFlags);
        } else {
            long vtime = p.scx.dsqVtime;
            // a task that slept may not bank more than one slice of credit
            long floor = vtimeNow.get() - SCX_SLICE_DFL;
            if (vtimeBefore(vtime, floor)) {
                vtime = floor;
            }
            scx_bpf_dispatch_vtime(p, SHARED_DSQ, SCX_SLICE_DFL, vtime, enqFlags);
        }
    }

    /** simple_dispatch() */
    @Override
    public void dispatch(int cpu, Task prev) {
        scx_bpf_consume(SHARED_DSQ);
    }

    /** simple_running(): {@code vtime_now} follows the vtimes of tasks as they start, never backwards. */
    @Override
    public void running(Task p) {
        if (fifoSched) {
            return;
        }
        long v = p.scx.dsqVtime;
        long now = vtimeNow.get();
        while (vtimeBefore(now, v)) {
            if (vtimeNow.compareAndSet(now, v)) {
                break;
            }
            now = vtimeNow.get();
        }
    }

    /**
     * simple_stopping(): charges the part of the slice the task used, divided by its weight (x100,
     * so nice 0 pays 1:1). A task that yields has its slice zeroed by the default yield and so pays
     * for a whole slice.
     */
    @Override
    public void stopping(Task p, boolean runnable) {
        if (fifoSched) {
            return;
        }
        // u64 arithmetic, as the original
        p.scx.dsqVtime += Long.divideUnsigned((SCX_SLICE_DFL - p.scx.slice) * 100, p.scx.weight);
    }

    /** simple_enable() */
    @Override
    public void enable(Task p) {
        p.scx.dsqVtime = vtimeNow.get();
    }

    /** simple_init(): sleepable. */
    @Override
    public int init() {
        return scx_bpf_create_dsq(SHARED_DSQ, -1);
    }

    /** simple_exit(): UEI_RECORD(uei, ei). */
    @Override
    public void exit(ExitInfo info) {
        uei = info;
    }

    // --- the user-space half -----------------------------------------------------------------------

    /** UEI_EXITED(): the exit info ops.exit() recorded, or null while the scheduler runs. */
    public ExitInfo exitInfo() {
        return uei;
    }

    /** read_stats(): the per-CPU counters summed. */
    @Override
    public Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("local", statLocal.sum());
        m.put("global", statGlobal.sum());
        return Collections.unmodifiableMap(m);
    }

    /** The line scx_simple prints every second. */
    @Override
    public String statsLine() {
        return "local=" + Long.toUnsignedString(statLocal.sum()) + " global="
                + Long.toUnsignedString(statGlobal.sum());
    }
}
