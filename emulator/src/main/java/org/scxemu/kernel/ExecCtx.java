// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The kernel context of one thread: the kernel's {@code current} task fields that sched_ext uses
 * ({@code current->scx.kf_mask}, {@code kf_tasks}) plus the per-CPU scratch that code running on
 * that CPU uses ({@code direct_dispatch_task}, the kick masks of {@code this_rq()->scx}, the
 * {@code SCX_KICK_WAIT} sequence snapshots) and per-thread call counters.
 *
 * <p>Owned by its thread: every field is read and written by that thread only (the counters are
 * read by others only after the thread has been joined, or racily for progress lines). A CPU
 * thread's context is {@code rq.ctx}; other threads (the helper thread, a test thread, a
 * workload's driver) get one of their own with {@code cpu == -1}.
 */
public final class ExecCtx {
    final Kernel kernel;
    /** The CPU this context runs on, or null for a thread that is no CPU. */
    final Rq rq;
    final int cpu;

    /** current->scx.kf_mask */
    int kfMask;
    /** current->scx.kf_tasks[0..1] */
    Task kfTask0;
    Task kfTask1;

    /** direct_dispatch_task (per CPU): the task being enqueued or selected. */
    Task directDispatchTask;
    /** direct_dispatch_task == ERR_PTR(-ESRCH): a direct dispatch was already recorded. */
    boolean directDispatchDone;

    /** this_rq()->scx.cpus_to_kick / _if_idle / _preempt / _wait, as bitmaps. */
    final long[] cpusToKick;
    final long[] cpusToKickIfIdle;
    final long[] cpusToPreempt;
    final long[] cpusToWait;
    /** scx_kick_cpus_pnt_seqs: pnt_seq snapshots for SCX_KICK_WAIT. */
    final long[] pseqs;
    /** The target's context-switch count at each SCX_KICK_WAIT snapshot (for the stress checker). */
    final long[] waitSwitches;
    /** kick_cpus_irq_work is queued. */
    boolean kickPending;
    /** The SCX_KICK_WAIT spin of kick_cpus_irq_workfn() is in progress. */
    boolean waitPending;
    /** Scratch out-parameter for scx_select_cpu_dfl()'s {@code found} (no allocation per wakeup). */
    final boolean[] found = new boolean[1];
    /** This thread's bpf_get_prandom_u32() stream, made from the kernel's seed at first use. */
    java.util.SplittableRandom prandom;
    /** Set while ops.dump*() runs, for scx_bpf_dump(). */
    StringBuilder dumpBuf;

    /** Per-op and per-kfunc call counts (ops_calls / kfunc_calls in the JSON). */
    final long[] opCalls = new long[ScxOp.COUNT];
    final long[] kfuncCalls = new long[Kfunc.COUNT];
    /** Re-enqueued tasks (scx_bpf_reenqueue_local() results). */
    long reenqueuedTasks;

    /** The deepest op nesting whose outer ops are remembered (deeper ones are counted, not named). */
    private static final int OP_NEST_MAX = 8;
    /**
     * The op this thread is inside ({@link ScxOp#ordinal()} + 1), or 0 outside every op. Written
     * only by the owning thread, on op entry and exit, with opaque stores (the kernel's
     * WRITE_ONCE); read by {@link OpWatch}'s monitor with opaque loads. Racy but benign: a stale
     * read only delays the detection of a stuck op by one sample.
     */
    private int opInFlight;
    /** Bumped on every op entry (opaque store by the owner, opaque load by {@link OpWatch}). */
    private long opSeq;
    /** The ops this thread is nested in (owner only, plain): restored into opInFlight on exit. */
    private final int[] opStack = new int[OP_NEST_MAX];
    private int opDepth;
    /** The thread that owns a non-CPU context (a CPU context's thread is {@code rq.thread}). */
    private final Thread creator;

    private static final ThreadLocal<ExecCtx> CURRENT = new ThreadLocal<>();

    ExecCtx(Kernel kernel, Rq rq) {
        this.kernel = kernel;
        this.rq = rq;
        this.cpu = rq == null ? -1 : rq.cpu;
        int words = (kernel.nrCpus + 63) >>> 6;
        cpusToKick = new long[words];
        cpusToKickIfIdle = new long[words];
        cpusToPreempt = new long[words];
        cpusToWait = new long[words];
        pseqs = new long[kernel.nrCpus];
        waitSwitches = new long[kernel.nrCpus];
        creator = Thread.currentThread();
        kernel.registerCtx(this);
    }

    /**
     * The context of the calling thread for {@code kernel}: a CPU thread's own, the one a stepping
     * test entered with {@link #enter}, or a fresh non-CPU context for any other thread.
     */
    static ExecCtx current(Kernel kernel) {
        Thread t = Thread.currentThread();
        if (t instanceof KThread) {
            ExecCtx c = ((KThread) t).ctx;
            if (c.kernel == kernel) {
                return c;
            }
        }
        ExecCtx c = CURRENT.get();
        if (c == null || c.kernel != kernel) {
            c = new ExecCtx(kernel, null);
            CURRENT.set(c);
        }
        return c;
    }

    /** The context of the calling thread, for kfuncs: whichever kernel it last entered. */
    static ExecCtx currentAny() {
        Thread t = Thread.currentThread();
        if (t instanceof KThread) {
            return ((KThread) t).ctx;
        }
        ExecCtx c = CURRENT.get();
        Kernel active = Ext.activeKernel();
        // a thread that last entered another (finished) kernel calls into the loaded one
        if (c == null || active != null && c.kernel != active) {
            Kernel k = active;
            if (k == null) {
                throw new IllegalStateException("kfunc called with no sched_ext scheduler loaded");
            }
            c = current(k);
        }
        return c;
    }

    /**
     * Makes {@code ctx} the calling thread's context (a test stepping CPU N from its own thread);
     * returns the previous one for {@link #leave}.
     */
    static ExecCtx enter(ExecCtx ctx) {
        ExecCtx prev = CURRENT.get();
        CURRENT.set(ctx);
        return prev;
    }

    static void leave(ExecCtx prev) {
        CURRENT.set(prev);
    }

    /**
     * Op entry (the hot path): two plain accesses of owner-only fields and two opaque stores; no
     * clock read, no allocation, no volatile access. The monitor times the op by sampling.
     */
    void opEnter(int ordinal) {
        int d = opDepth;
        if (d < OP_NEST_MAX) {
            opStack[d] = ordinal + 1;
        }
        opDepth = d + 1;
        OP_SEQ.setOpaque(this, opSeq + 1);
        OP_IN_FLIGHT.setOpaque(this, ordinal + 1);
    }

    /** Op exit: the enclosing op (if any) is in flight again. */
    void opExit() {
        int d = opDepth - 1;
        opDepth = d;
        OP_IN_FLIGHT.setOpaque(this, d > 0 && d <= OP_NEST_MAX ? opStack[d - 1] : 0);
    }

    /** The op in flight (ordinal + 1, 0 for none), for the monitor: opaque load. */
    int readOnceOpInFlight() {
        return (int) OP_IN_FLIGHT.getOpaque(this);
    }

    /** The op-entry sequence, for the monitor: opaque load. */
    long readOnceOpSeq() {
        return (long) OP_SEQ.getOpaque(this);
    }

    /** The thread this context runs on (a CPU's thread once attached), or null. */
    Thread thread() {
        return rq != null ? rq.thread : creator;
    }

    static boolean testBit(long[] m, int cpu) {
        return (m[cpu >>> 6] & (1L << cpu)) != 0;
    }

    static void setBit(long[] m, int cpu) {
        m[cpu >>> 6] |= 1L << cpu;
    }

    static void clearBit(long[] m, int cpu) {
        m[cpu >>> 6] &= ~(1L << cpu);
    }

    static boolean isEmpty(long[] m) {
        for (long w : m) {
            if (w != 0) {
                return false;
            }
        }
        return true;
    }

    // VarHandle mechanics
    private static final VarHandle OP_IN_FLIGHT;
    private static final VarHandle OP_SEQ;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            OP_IN_FLIGHT = l.findVarHandle(ExecCtx.class, "opInFlight", int.class);
            OP_SEQ = l.findVarHandle(ExecCtx.class, "opSeq", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
