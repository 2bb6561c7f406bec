// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.scxemu.scx.Scx.*;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import org.scxemu.scx.SchedExtOps;
import org.scxemu.scx.SchedExtOps.CpuAcquireArgs;
import org.scxemu.scx.SchedExtOps.CpuReleaseArgs;
import org.scxemu.scx.SchedExtOps.ExitTaskArgs;
import org.scxemu.scx.SchedExtOps.InitTaskArgs;

/**
 * The sched_ext class: kernel/sched/ext.c of the June 2024 series (v7, the seed's), on real
 * threads. 6.12 is followed where v7 is silent.
 *
 * <p>State and guards:
 * <ul>
 *   <li>{@code ops}, {@code opsFlags}, {@code dispatchMaxBatch}, {@code watchdogTimeoutNs}: written
 *       by the enable path under {@code enableMutex} before the static keys that expose them are
 *       enabled (the key flip is the publication, see {@link StaticKey}); read by everyone;
 *   <li>{@code enableState}, {@code exitKind}, {@code bypassDepth}: atomics, any thread;
 *   <li>{@code bypassing}: volatile, written under {@code enableMutex}/the bypass lock, read
 *       racily by the hot paths (the kernel's {@code scx_ops_bypassing()} atomic_read);
 *   <li>{@code globalDsq} and the user DSQs: their own locks; {@code dsqHash} is a concurrent map
 *       (the kernel's rhashtable);
 *   <li>{@code idleCpu}: an atomic bitmap, best-effort hints read without locks.
 * </ul>
 */
public final class Ext {
    /** The loaded scheduler's Ext: only one in the JVM, like one per kernel. */
    private static final AtomicReference<Ext> ACTIVE = new AtomicReference<>();

    /* enum scx_ops_enable_state (v7 has PREPPING first; we start in DISABLED as 6.12 does) */
    public static final int SCX_OPS_PREPPING = 0;
    public static final int SCX_OPS_ENABLING = 1;
    public static final int SCX_OPS_ENABLED = 2;
    public static final int SCX_OPS_DISABLING = 3;
    public static final int SCX_OPS_DISABLED = 4;

    final Kernel kernel;
    private final Rq[] rqs;
    private final int nrCpus;

    volatile SchedExtOps ops;
    long opsFlags;
    int dispatchMaxBatch = SCX_DSP_DFL_MAX_BATCH;
    long watchdogTimeoutNs = SCX_WATCHDOG_MAX_TIMEOUT_NS;
    int exitDumpLen = SCX_EXIT_DUMP_DFL_LEN;

    final ReentrantLock enableMutex = new ReentrantLock();
    final AtomicInteger enableState = new AtomicInteger(SCX_OPS_DISABLED);
    final AtomicInteger exitKind = new AtomicInteger(SCX_EXIT_DONE);
    volatile ExitInfo exitInfo = new ExitInfo();
    private final AtomicInteger bypassDepth = new AtomicInteger();
    private final ReentrantLock bypassLock = new ReentrantLock();
    volatile boolean bypassing;
    volatile boolean switchingAll;
    volatile boolean initTaskEnabled;
    volatile boolean warnedZeroSlice;
    final AtomicInteger nrRejected = new AtomicInteger();

    final Dsq globalDsq = new Dsq(SCX_DSQ_GLOBAL, null);
    final ConcurrentHashMap<Long, Dsq> dsqHash = new ConcurrentHashMap<>();
    final AtomicLongArray idleCpu;

    /** The "sched_ext_ops_helper" kthread worker: runs the error irq work and the disable work. */
    final Helper helper;
    /** The watchdog work's last run, in ns (scx_watchdog_timestamp). */
    volatile long watchdogTimestamp;
    /** BPF timers the loaded scheduler started: cancelled when it is disabled. */
    private final java.util.Set<Timer> bpfTimers = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Kernel log lines (pr_info/pr_err/pr_warn), in order. */
    private final List<String> klog = new ArrayList<>();

    Ext(Kernel kernel) {
        this.kernel = kernel;
        this.rqs = kernel.rqs;
        this.nrCpus = kernel.nrCpus;
        this.idleCpu = new AtomicLongArray((nrCpus + 63) >>> 6);
        this.helper = new Helper(this);
        for (Rq rq : rqs) {
            rq.scx.flags |= SCX_RQ_ONLINE;
        }
    }

    /** The kernel whose scheduler is loaded, or null. */
    static Kernel activeKernel() {
        Ext e = ACTIVE.get();
        return e == null ? null : e.kernel;
    }

    /** scx_enabled() */
    static boolean scxEnabled() {
        return ScxKeys.SCX_OPS_ENABLED.enabled();
    }

    /** scx_ops_bypassing() */
    boolean scxOpsBypassing() {
        return bypassing;
    }

    /** scx_ops_enable_state() */
    public int enableState() {
        return enableState.get();
    }

    public ExitInfo exitInfo() {
        return exitInfo;
    }

    public SchedExtOps ops() {
        return ops;
    }

    void klog(String line) {
        synchronized (klog) {
            klog.add(line);
        }
    }

    /** The kernel log so far (dmesg). */
    public List<String> dmesg() {
        synchronized (klog) {
            return new ArrayList<>(klog);
        }
    }

    /** task_should_scx() */
    boolean taskShouldScx(Task p) {
        if (!scxEnabled() || enableState.get() == SCX_OPS_DISABLING) {
            return false;
        }
        if (p.scx.disallow) {
            return false;
        }
        if (switchingAll) {
            return true;
        }
        return p.policy == Task.SCHED_EXT;
    }

    // =============================================================================================
    // kf_mask: SCX_CALL_OP*() and scx_kf_allowed()
    // =============================================================================================

    private static int highestBit(int flags) {
        return flags == 0 ? 0 : Integer.highestOneBit(flags);
    }

    private static int higherBits(int flags) {
        return ~((highestBit(flags) << 1) - 1);
    }

    /** ext.c: scx_kf_allow() */
    private void scxKfAllow(ExecCtx ctx, int mask) {
        if ((ctx.kfMask & (mask | higherBits(mask))) != 0) {
            warnOnce("invalid nesting current->scx.kf_mask=0x" + Integer.toHexString(ctx.kfMask) + " mask=0x"
                    + Integer.toHexString(mask));
        }
        ctx.kfMask |= mask;
    }

    /** ext.c: scx_kf_disallow() */
    private static void scxKfDisallow(ExecCtx ctx, int mask) {
        ctx.kfMask &= ~mask;
    }

    /** ext.c: scx_kf_allowed(): a kfunc checks its calling context; failure ejects the scheduler. */
    boolean scxKfAllowed(ExecCtx ctx, int mask) {
        if ((ctx.kfMask & mask) == 0) {
            scxOpsError("kfunc with mask 0x%x called from an operation only allowing 0x%x", mask, ctx.kfMask);
            return false;
        }
        if (highestBit(mask) == SCX_KF_CPU_RELEASE && (ctx.kfMask & higherBits(SCX_KF_CPU_RELEASE)) != 0) {
            scxOpsError("cpu_release kfunc called from a nested operation");
            return false;
        }
        if (highestBit(mask) == SCX_KF_DISPATCH && (ctx.kfMask & higherBits(SCX_KF_DISPATCH)) != 0) {
            scxOpsError("dispatch kfunc called from a nested operation");
            return false;
        }
        return true;
    }

    /** ext.c: scx_kf_allowed_on_arg_tasks() */
    boolean scxKfAllowedOnArgTasks(ExecCtx ctx, int mask, Task p) {
        if (!scxKfAllowed(ctx, mask)) {
            return false;
        }
        if (p != ctx.kfTask0 && p != ctx.kfTask1) {
            scxOpsError("called on a task not being operated on");
            return false;
        }
        return true;
    }

    private void enterOp(ExecCtx ctx, ScxOp op, int mask) {
        ctx.opCalls[op.ordinal()]++;
        ctx.opEnter(op.ordinal()); // for OpWatch: two opaque stores, no clock read
        if (mask != 0) {
            scxKfAllow(ctx, mask);
        }
    }

    private void exitOp(ExecCtx ctx, int mask) {
        ctx.opExit();
        if (mask != 0) {
            scxKfDisallow(ctx, mask);
        }
    }

    /** A Java exception out of an op is scheduler misbehaviour: eject it, never unwind the core. */
    private void opThrew(ScxOp op, Throwable t) {
        List<String> bt = new ArrayList<>();
        for (StackTraceElement e : t.getStackTrace()) {
            bt.add(e.toString());
            if (bt.size() >= SCX_EXIT_BT_LEN) {
                break;
            }
        }
        if (!ExtLifecycle.blameAfterExit(this, "ops." + op.kname + "()", t, bt)) { // a fault during an unload
            scxOpsExitKind(SCX_EXIT_ERROR_BPF, 0, bt, "ops.%s() threw %s%s", op.kname, t, ExtLifecycle.userFrame(t));
        }
    }

    // --- typed SCX_CALL_OP wrappers ---------------------------------------------------------------

    int callSelectCpu(ExecCtx ctx, Task p, int prevCpu, long wakeFlags) {
        int mask = SCX_KF_ENQUEUE | SCX_KF_SELECT_CPU;
        enterOp(ctx, ScxOp.SELECT_CPU, mask);
        Task saved = ctx.kfTask0;
        ctx.kfTask0 = p;
        try {
            return ops.selectCpu(p, prevCpu, wakeFlags);
        } catch (Throwable t) {
            opThrew(ScxOp.SELECT_CPU, t);
            return prevCpu;
        } finally {
            ctx.kfTask0 = saved;
            exitOp(ctx, mask);
        }
    }

    void callEnqueue(ExecCtx ctx, Task p, long enqFlags) {
        kernel.tracer.enqueue(ctx.cpu, p, enqFlags);
        enterOp(ctx, ScxOp.ENQUEUE, SCX_KF_ENQUEUE);
        Task saved = ctx.kfTask0;
        ctx.kfTask0 = p;
        try {
            ops.enqueue(p, enqFlags);
        } catch (Throwable t) {
            opThrew(ScxOp.ENQUEUE, t);
        } finally {
            ctx.kfTask0 = saved;
            exitOp(ctx, SCX_KF_ENQUEUE);
        }
    }

    void callDequeue(ExecCtx ctx, Task p, long deqFlags) {
        enterOp(ctx, ScxOp.DEQUEUE, SCX_KF_REST);
        Task saved = ctx.kfTask0;
        ctx.kfTask0 = p;
        try {
            ops.dequeue(p, deqFlags);
        } catch (Throwable t) {
            opThrew(ScxOp.DEQUEUE, t);
        } finally {
            ctx.kfTask0 = saved;
            exitOp(ctx, SCX_KF_REST);
        }
    }

    void callDispatch(ExecCtx ctx, int cpu, Task prev) {
        enterOp(ctx, ScxOp.DISPATCH, SCX_KF_DISPATCH);
        try {
            ops.dispatch(cpu, prev);
        } catch (Throwable t) {
            opThrew(ScxOp.DISPATCH, t);
        } finally {
            exitOp(ctx, SCX_KF_DISPATCH);
        }
    }

    /** The REST-mask task ops: tick, runnable, running, stopping, quiescent, enable, disable... */
    private void callTaskOp(ExecCtx ctx, ScxOp op, Task p, long arg) {
        enterOp(ctx, op, SCX_KF_REST);
        Task saved = ctx.kfTask0;
        ctx.kfTask0 = p;
        try {
            switch (op) {
                case TICK:
                    ops.tick(p);
                    break;
                case RUNNABLE:
                    ops.runnable(p, arg);
                    break;
                case RUNNING:
                    ops.running(p);
                    break;
                case STOPPING:
                    ops.stopping(p, arg != 0);
                    break;
                case QUIESCENT:
                    ops.quiescent(p, arg);
                    break;
                case ENABLE:
                    ops.enable(p);
                    break;
                case DISABLE:
                    ops.disable(p);
                    break;
                case SET_WEIGHT:
                    ops.setWeight(p, (int) arg);
                    break;
                case SET_CPUMASK:
                    ops.setCpumask(p, p.cpusAllowed);
                    break;
                case EXIT_TASK:
                    ops.exitTask(p, new ExitTaskArgs(arg != 0));
                    break;
                default:
                    throw new IllegalArgumentException(op.toString());
            }
        } catch (Throwable t) {
            opThrew(op, t);
        } finally {
            ctx.kfTask0 = saved;
            exitOp(ctx, SCX_KF_REST);
        }
    }

    private boolean callYield(ExecCtx ctx, Task from, Task to) {
        enterOp(ctx, ScxOp.YIELD, SCX_KF_REST);
        Task s0 = ctx.kfTask0;
        Task s1 = ctx.kfTask1;
        ctx.kfTask0 = from;
        ctx.kfTask1 = to;
        try {
            return ops.yield(from, to);
        } catch (Throwable t) {
            opThrew(ScxOp.YIELD, t);
            return false;
        } finally {
            ctx.kfTask0 = s0;
            ctx.kfTask1 = s1;
            exitOp(ctx, SCX_KF_REST);
        }
    }

    private void callUpdateIdle(ExecCtx ctx, int cpu, boolean idle) {
        enterOp(ctx, ScxOp.UPDATE_IDLE, SCX_KF_REST);
        try {
            ops.updateIdle(cpu, idle);
        } catch (Throwable t) {
            opThrew(ScxOp.UPDATE_IDLE, t);
        } finally {
            exitOp(ctx, SCX_KF_REST);
        }
    }

    private static final CpuAcquireArgs ACQUIRE_ARGS = new CpuAcquireArgs();

    /** SCX_CALL_OP(0, cpu_acquire, cpu_of(rq), NULL): v7 mask 0. */
    private void callCpuAcquire(ExecCtx ctx, int cpu) {
        enterOp(ctx, ScxOp.CPU_ACQUIRE, 0);
        try {
            ops.cpuAcquire(cpu, ACQUIRE_ARGS);
        } catch (Throwable t) {
            opThrew(ScxOp.CPU_ACQUIRE, t);
        } finally {
            exitOp(ctx, 0);
        }
    }

    /** SCX_CALL_OP(SCX_KF_CPU_RELEASE, cpu_release, cpu_of(rq), &args) */
    private void callCpuRelease(ExecCtx ctx, int cpu, CpuReleaseArgs args) {
        enterOp(ctx, ScxOp.CPU_RELEASE, SCX_KF_CPU_RELEASE);
        try {
            ops.cpuRelease(cpu, args);
        } catch (Throwable t) {
            opThrew(ScxOp.CPU_RELEASE, t);
        } finally {
            exitOp(ctx, SCX_KF_CPU_RELEASE);
        }
    }

    // =============================================================================================
    // Errors and exit
    // =============================================================================================

    private volatile boolean warnedNesting;

    private void warnOnce(String msg) {
        if (!warnedNesting) {
            warnedNesting = true;
            klog("WARNING: sched_ext: " + msg);
        }
    }

    /** scx_ops_error(fmt, ...) */
    public void scxOpsError(String fmt, Object... args) {
        scxOpsExitKind(SCX_EXIT_ERROR, 0, null, fmt, args);
    }

    /** scx_ops_error_kind(kind, fmt, ...) */
    void scxOpsErrorKind(int kind, String fmt, Object... args) {
        scxOpsExitKind(kind, 0, null, fmt, args);
    }

    /**
     * ext.c: scx_ops_exit_kind(): the first exit wins (cmpxchg on scx_exit_kind); later ones are
     * dropped. Records the exit info and queues the error irq work (dump, then the disable work)
     * on the helper. Returns normally: the caller carries on in a safe state.
     */
    void scxOpsExitKind(int kind, long exitCode, List<String> bt, String fmt, Object... args) {
        if (!exitKind.compareAndSet(SCX_EXIT_NONE, kind)) {
            return;
        }
        ExitInfo ei = exitInfo;
        ei.kind = kind;
        ei.exitCode = exitCode;
        ei.atNs = kernel.now();
        String msg = fmt == null ? "" : CFormat.format(fmt, args);
        if (msg.length() > SCX_EXIT_MSG_LEN - 1) {
            msg = msg.substring(0, SCX_EXIT_MSG_LEN - 1);
        }
        ei.msg = msg;
        if (kind >= SCX_EXIT_ERROR) {
            ei.bt = bt != null ? bt : currentBacktrace();
        }
        ExecCtx ctx = ExecCtx.current(kernel);
        if (ctx.rq != null) {
            ei.triggeredBy = ctx.rq.curr.toString();
        } else {
            ei.triggeredBy = Thread.currentThread().getName() + "[0]";
        }
        // irq_work_queue(&scx_ops_error_irq_work)
        helper.queue(() -> {
            if (ei.kind >= SCX_EXIT_ERROR) {
                ei.dump = dumpState(ei, exitDumpLen);
            }
            disableWorkfn();
        });
    }

    private static List<String> currentBacktrace() {
        List<String> bt = new ArrayList<>();
        StackTraceElement[] st = Thread.currentThread().getStackTrace();
        for (int i = 3; i < st.length && bt.size() < SCX_EXIT_BT_LEN; i++) {
            bt.add(st[i].toString());
        }
        return bt;
    }

    // =============================================================================================
    // Enable / disable
    // =============================================================================================

    /** Result of {@link #enable}: 0 or a negative errno, as the attach returns it. */
    public int enable(SchedExtOps newOps) {
        return ExtLifecycle.scxOpsEnable(this, newOps);
    }

    /**
     * Unloads the scheduler the way user space detaching its link does:
     * scx_ops_disable(SCX_EXIT_UNREG) and wait for the disable work to finish.
     */
    public void unload() {
        scxOpsExitKind(SCX_EXIT_UNREG, 0, null, null);
        awaitDisabled();
    }

    /**
     * Waits until the scheduler is fully disabled after an exit (error, scx_bpf_exit(), unload):
     * the exit kind is set before the error work is queued, so this waits for the DISABLED state
     * itself, not just for the helper's queue. Returns at once while no exit is pending; gives up
     * after 30 s so a caller never hangs.
     */
    public void awaitDisabled() {
        long deadline = System.nanoTime() + 30_000_000_000L;
        for (;;) {
            helper.flush();
            if (exitKind.get() == SCX_EXIT_NONE || enableState.get() == SCX_OPS_DISABLED
                    || System.nanoTime() > deadline) {
                return;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L);
        }
    }

    /** Deterministic mode: the helper's work runs only in {@link #runHelperWork}. */
    public void setManualHelper(boolean on) {
        helper.setManual(on);
    }

    /** Runs the helper's queued work (dump, disable) now, on the calling thread. */
    public void runHelperWork() {
        helper.flush();
    }

    /** If an exit is pending, runs the disable now (stepped machines). */
    public void awaitDisabledIfExiting() {
        int k = exitKind.get();
        if (k != SCX_EXIT_NONE && k != SCX_EXIT_DONE) {
            helper.flush();
        }
    }

    /** How often the watchdog work runs: timeout / 2. */
    public long watchdogIntervalNs() {
        return watchdogTimeoutNs / 2;
    }

    /** The exit kind so far (SCX_EXIT_NONE while the scheduler runs). */
    public int exitKind() {
        return exitKind.get();
    }

    void disableWorkfn() {
        ExtLifecycle.scxOpsDisableWorkfn(this);
    }

    boolean claimActive() {
        return ACTIVE.compareAndSet(null, this);
    }

    void releaseActive() {
        ACTIVE.compareAndSet(this, null);
    }

    // =============================================================================================
    // Bypass
    // =============================================================================================

    /**
     * ext.c: scx_ops_bypass(): nestable; on the 0→1 and 1→0 transitions every CPU's runnable
     * tasks are cycled through dequeue/enqueue so they are re-queued under the new regime.
     */
    void scxOpsBypass(boolean bypass) {
        bypassLock.lock();
        try {
            if (bypass) {
                if (bypassDepth.incrementAndGet() != 1) {
                    return;
                }
            } else {
                int d = bypassDepth.decrementAndGet();
                if (d < 0) {
                    bypassDepth.set(0);
                    return;
                }
                if (d != 0) {
                    return;
                }
            }
            bypassing = bypass;
            for (Rq rq : rqs) {
                rq.lock.lock();
                try {
                    // list_for_each_entry_safe_reverse(&rq->scx.runnable_list): cycle deq/enq
                    List<Task> l = new ArrayList<>();
                    for (Task p = rq.scx.runnableTail; p != null; p = p.scx.runnablePrev) {
                        l.add(p);
                    }
                    for (Task p : l) {
                        if (p.schedClass == SchedClass.EXT && (p.scx.flags & SCX_TASK_QUEUED) != 0) {
                            kernel.requeue(rq, p);
                        }
                    }
                    kernel.reschedCurr(rq);
                } finally {
                    rq.lock.unlock();
                }
            }
        } finally {
            bypassLock.unlock();
        }
    }

    // =============================================================================================
    // Runnable list and the watchdog
    // =============================================================================================

    /** ext.c: set_task_runnable() */
    private void setTaskRunnable(Rq rq, Task p) {
        rq.assertHeld();
        SchedExtEntity s = p.scx;
        if ((s.flags & SCX_TASK_RESET_RUNNABLE_AT) != 0) {
            s.runnableAt = kernel.now();
            s.flags &= ~SCX_TASK_RESET_RUNNABLE_AT;
        }
        if (s.onRunnableList) {
            return;
        }
        s.runnableNext = null;
        s.runnablePrev = rq.scx.runnableTail;
        if (rq.scx.runnableTail != null) {
            rq.scx.runnableTail.scx.runnableNext = p;
        } else {
            rq.scx.runnableHead = p;
        }
        rq.scx.runnableTail = p;
        s.onRunnableList = true;
    }

    /** ext.c: clr_task_runnable() */
    private void clrTaskRunnable(Task p, boolean resetRunnableAt) {
        SchedExtEntity s = p.scx;
        if (s.onRunnableList) {
            Rq rq = rqs[p.readOnceCpu()];
            Task prev = s.runnablePrev;
            Task next = s.runnableNext;
            if (prev != null) {
                prev.scx.runnableNext = next;
            } else {
                rq.scx.runnableHead = next;
            }
            if (next != null) {
                next.scx.runnablePrev = prev;
            } else {
                rq.scx.runnableTail = prev;
            }
            s.runnablePrev = null;
            s.runnableNext = null;
            s.onRunnableList = false;
        }
        if (resetRunnableAt) {
            s.flags |= SCX_TASK_RESET_RUNNABLE_AT;
        }
    }

    /**
     * ext.c: scx_watchdog_workfn() / check_rq_for_timeouts(): a runnable task that has not run for
     * the timeout ejects the scheduler with SCX_EXIT_ERROR_STALL.
     *
     * @return true if a stall was found
     */
    public boolean watchdogWorkfn() {
        watchdogTimestamp = kernel.now();
        if (!scxEnabled() || enableState.get() != SCX_OPS_ENABLED) {
            return false;
        }
        for (Rq rq : rqs) {
            if (!rq.online) {
                continue;
            }
            rq.lock.lock();
            try {
                long now = kernel.now();
                for (Task p = rq.scx.runnableHead; p != null; p = p.scx.runnableNext) {
                    long last = p.scx.runnableAt;
                    if (now - last > watchdogTimeoutNs) {
                        long durMs = (now - last) / 1_000_000L;
                        scxOpsErrorKind(SCX_EXIT_ERROR_STALL, "%s[%d] failed to run for %u.%03us", p.comm, p.pid,
                                durMs / 1000, durMs % 1000);
                        return true;
                    }
                }
            } finally {
                rq.lock.unlock();
            }
        }
        return false;
    }

    // =============================================================================================
    // DSQs
    // =============================================================================================

    /** ext.c: find_user_dsq() */
    Dsq findUserDsq(long dsqId) {
        return dsqHash.get(dsqId);
    }

    /** ext.c: ops_cpu_valid() */
    boolean opsCpuValid(int cpu, String where) {
        if (cpu >= 0 && cpu < nrCpus) {
            return true;
        }
        scxOpsError("invalid CPU %d%s%s", cpu, where != null ? " " : "", where != null ? where : "");
        return false;
    }

    /** ext.c: find_dsq_for_dispatch() */
    Dsq findDsqForDispatch(Rq rq, long dsqId, Task p) {
        if (dsqId == SCX_DSQ_LOCAL) {
            return rq.scx.localDsq;
        }
        if ((dsqId & SCX_DSQ_LOCAL_ON) == SCX_DSQ_LOCAL_ON) {
            int cpu = (int) (dsqId & SCX_DSQ_LOCAL_CPU_MASK);
            if (!opsCpuValid(cpu, "in SCX_DSQ_LOCAL_ON dispatch verdict")) {
                return globalDsq;
            }
            return rqs[cpu].scx.localDsq;
        }
        Dsq dsq = dsqId == SCX_DSQ_GLOBAL ? globalDsq : findUserDsq(dsqId);
        if (dsq == null) {
            scxOpsError("non-existent DSQ 0x%x for %s[%d]", dsqId, p.comm, p.pid);
            return globalDsq;
        }
        return dsq;
    }

    /**
     * ext.c: dispatch_enqueue(). Inserts {@code p} into {@code dsq} (FIFO, head or vtime order),
     * bumps {@code seq}, and with SCX_ENQ_CLEAR_OPSS store-releases ops_state NONE once the task is
     * visible on the DSQ (pairs with the acquire in wait_ops_state()). A local DSQ is protected by
     * the rq lock, which the caller holds; any other DSQ's lock is taken here.
     */
    void dispatchEnqueue(Dsq dsq, Task p, long enqFlags) {
        boolean isLocal = dsq.isLocal();
        SchedExtEntity s = p.scx;
        if (s.dsq != null) {
            throw new KernelBug("dispatch_enqueue: " + p + " already on " + s.dsq);
        }
        if (!isLocal) {
            dsq.lock.lock();
            if (dsq.id() == SCX_DSQ_INVALID) {
                scxOpsError("attempting to dispatch to a destroyed dsq");
                dsq.lock.unlock();
                dsq = globalDsq;
                dsq.lock.lock();
            }
        } else {
            dsq.rq.assertHeld();
        }
        try {
            if ((dsq.id() & SCX_DSQ_FLAG_BUILTIN) != 0 && (enqFlags & SCX_ENQ_DSQ_PRIQ) != 0) {
                scxOpsError("cannot use vtime ordering for built-in DSQs");
                enqFlags &= ~SCX_ENQ_DSQ_PRIQ;
            }
            if ((enqFlags & SCX_ENQ_DSQ_PRIQ) != 0) {
                if (dsq.nrPriq == 0 && dsq.first() != null) {
                    scxOpsError("DSQ ID 0x%016x already had FIFO-enqueued tasks", dsq.id());
                }
                dsq.linkPriq(p);
            } else {
                if (dsq.nrPriq != 0) {
                    scxOpsError("DSQ ID 0x%016x already had PRIQ-enqueued tasks", dsq.id());
                }
                if ((enqFlags & (SCX_ENQ_HEAD | SCX_ENQ_PREEMPT)) != 0) {
                    dsq.linkHead(p);
                } else {
                    dsq.linkTail(p);
                }
            }
            dsq.seq++;
            s.dsqSeq = dsq.seq;
            s.dsq = dsq;
            s.ddspDsqId = SCX_DSQ_INVALID;
            s.ddspEnqFlags = 0;
            // We're transitioning out of QUEUEING or DISPATCHING. store_release to match
            // waiters' load_acquire.
            if ((enqFlags & SCX_ENQ_CLEAR_OPSS) != 0) {
                kernel.tracer.ops_state_clear(p);
                s.soOpsState(SCX_OPSS_NONE);
            }
            if (isLocal) {
                Rq rq = dsq.rq;
                boolean preempt = false;
                Task curr = rq.curr;
                stranded(rq, curr, p);
                if ((enqFlags & SCX_ENQ_PREEMPT) != 0 && p != curr && curr.schedClass == SchedClass.EXT) {
                    curr.scx.slice = 0;
                    preempt = true;
                }
                if (preempt || SchedClass.EXT.above(curr.schedClass)) {
                    kernel.reschedCurr(rq);
                }
            }
        } finally {
            if (!isLocal) {
                dsq.lock.unlock();
            }
        }
    }

    /** ext.c: task_unlink_from_dsq() */
    private void taskUnlinkFromDsq(Task p, Dsq dsq) {
        dsq.unlink(p);
        if (dsq.isLocal()) {
            unstranded(p);
        }
    }

    /**
     * ext.c: dispatch_dequeue(): takes {@code p} off its DSQ. If a CPU is migrating it
     * ({@code holding_cpu} set), clears {@code holding_cpu} instead, telling that CPU it lost.
     */
    void dispatchDequeue(Rq rq, Task p) {
        SchedExtEntity s = p.scx;
        Dsq dsq = s.dsq;
        if (dsq == null) {
            // When dispatching directly from the BPF scheduler to a local DSQ, the task isn't
            // associated with any DSQ but holding_cpu may be set under DISPATCHING.
            if (s.readOnceHoldingCpu() >= 0) {
                s.writeOnceHoldingCpu(-1);
            }
            return;
        }
        // is_local = dsq == &rq->scx.local_dsq: a task on a local DSQ is on that DSQ's rq
        boolean isLocal = dsq.isLocal();
        if (!isLocal) {
            dsq.lock.lock();
        }
        try {
            // Now that we hold the DSQ lock, holding_cpu and the dsq fields can't change.
            if (s.readOnceHoldingCpu() < 0) {
                taskUnlinkFromDsq(p, dsq);
            } else {
                // Racing against a consumer that already unlinked p and set holding_cpu.
                s.writeOnceHoldingCpu(-1);
            }
            s.dsq = null;
        } finally {
            if (!isLocal) {
                dsq.lock.unlock();
            }
        }
    }

    // =============================================================================================
    // Enqueue path
    // =============================================================================================

    /** ext.c: enqueue_task_scx() */
    void enqueueTaskScx(Rq rq, Task p, int coreEnqFlags) {
        SchedExtEntity s = p.scx;
        long enqFlags = (coreEnqFlags & 0xffffffffL) | rq.scx.extraEnqFlags;
        int stickyCpu = s.stickyCpu;
        if (stickyCpu >= 0) {
            s.stickyCpu = -1;
        }
        // Restoring a running task will be immediately followed by set_next_task_scx() which
        // expects the task to not be on the BPF scheduler: force the local DSQ.
        if ((coreEnqFlags & Kernel.ENQUEUE_RESTORE) != 0 && rq.curr == p) {
            stickyCpu = rq.cpu;
        }
        if ((s.flags & SCX_TASK_QUEUED) != 0) {
            return;
        }
        setTaskRunnable(rq, p);
        s.flags |= SCX_TASK_QUEUED;
        rq.scx.nrRunning++;
        rq.nrRunning++;
        ExecCtx ctx = ExecCtx.current(kernel);
        if (ScxKeys.HAS_RUNNABLE.enabled() && p.laOnRq() != Task.TASK_ON_RQ_MIGRATING) {
            callTaskOp(ctx, ScxOp.RUNNABLE, p, enqFlags);
        }
        doEnqueueTask(ctx, rq, p, enqFlags, stickyCpu);
    }

    /** ext.c: do_enqueue_task() [v7] */
    void doEnqueueTask(ExecCtx ctx, Rq rq, Task p, long enqFlags, int stickyCpu) {
        SchedExtEntity s = p.scx;
        // rq migration
        if (stickyCpu == rq.cpu) {
            dispatchEnqueue(rq.scx.localDsq, p, enqFlags);
            return;
        }
        if (!scxRqOnline(rq)) {
            enqueueLocal(rq, p, enqFlags);
            return;
        }
        if (scxOpsBypassing()) {
            if ((enqFlags & SCX_ENQ_LAST) != 0) {
                enqueueLocal(rq, p, enqFlags);
            } else {
                enqueueGlobal(p, enqFlags);
            }
            return;
        }
        if (s.ddspDsqId != SCX_DSQ_INVALID) {
            directDispatch(ctx, p, enqFlags);
            return;
        }
        // see SCX_OPS_ENQ_EXITING
        if (!ScxKeys.SCX_OPS_ENQ_EXITING.enabled() && (p.pflags & Task.PF_EXITING) != 0) {
            enqueueLocal(rq, p, enqFlags);
            return;
        }
        // see SCX_OPS_ENQ_LAST
        if (!ScxKeys.SCX_OPS_ENQ_LAST.enabled() && (enqFlags & SCX_ENQ_LAST) != 0) {
            enqueueLocal(rq, p, enqFlags);
            return;
        }
        if (!ScxKeys.HAS_ENQUEUE.enabled()) {
            enqueueGlobal(p, enqFlags);
            return;
        }
        // DSQ bypass didn't trigger, enqueue on the BPF scheduler
        long qseq = (rq.scx.opsQseq++) << SCX_OPSS_QSEQ_SHIFT;
        if (s.readOnceOpsState() != SCX_OPSS_NONE) {
            throw new KernelBug("do_enqueue_task: ops_state of " + p + " is 0x"
                    + Long.toHexString(s.readOnceOpsState()));
        }
        kernel.tracer.ops_state(p, SCX_OPSS_NONE, SCX_OPSS_QUEUEING | qseq);
        s.writeOnceOpsState(SCX_OPSS_QUEUEING | qseq);
        RacePoint.at(RacePoint.OPS_STATE);
        Task savedDdsp = ctx.directDispatchTask;
        boolean savedDone = ctx.directDispatchDone;
        ctx.directDispatchTask = p;
        ctx.directDispatchDone = false;
        callEnqueue(ctx, p, enqFlags);
        ctx.directDispatchTask = savedDdsp;
        ctx.directDispatchDone = savedDone;
        if (s.ddspDsqId != SCX_DSQ_INVALID) {
            directDispatch(ctx, p, enqFlags);
            return;
        }
        // If not directly dispatched, QUEUEING isn't clear yet and dispatch or dequeue may be
        // waiting. The store_release matches their load_acquire.
        kernel.tracer.ops_state(p, SCX_OPSS_QUEUEING | qseq, SCX_OPSS_QUEUED | qseq);
        s.soOpsState(SCX_OPSS_QUEUED | qseq);
        RacePoint.at(RacePoint.OPS_STATE);
    }

    private void enqueueLocal(Rq rq, Task p, long enqFlags) {
        p.scx.slice = SCX_SLICE_DFL;
        dispatchEnqueue(rq.scx.localDsq, p, enqFlags);
    }

    private void enqueueGlobal(Task p, long enqFlags) {
        p.scx.slice = SCX_SLICE_DFL;
        dispatchEnqueue(globalDsq, p, enqFlags);
    }

    /** ext.c: direct_dispatch() [v7] */
    private void directDispatch(ExecCtx ctx, Task p, long enqFlags) {
        SchedExtEntity s = p.scx;
        enqFlags |= s.ddspEnqFlags | SCX_ENQ_CLEAR_OPSS;
        Rq taskRq = rqs[p.readOnceCpu()];
        Dsq dsq = findDsqForDispatch(taskRq, s.ddspDsqId, p);
        if (dsq.isLocal() && dsq.rq != taskRq) {
            // [v7] mark_direct_dispatch() already rejected SCX_DSQ_LOCAL_ON; a local DSQ here is
            // the task's own rq's.
            dsq = taskRq.scx.localDsq;
        }
        dispatchEnqueue(dsq, p, enqFlags);
    }

    /** ext.c: mark_direct_dispatch() [v7] */
    void markDirectDispatch(ExecCtx ctx, Task p, long dsqId, long enqFlags) {
        Task ddspTask = ctx.directDispatchTask;
        if (ctx.directDispatchDone || ddspTask != p) {
            if (ctx.directDispatchDone) {
                scxOpsError("%s[%d] already direct-dispatched", p.comm, p.pid);
            } else {
                scxOpsError("scheduling for %s[%d] but trying to direct-dispatch %s[%d]", ddspTask.comm, ddspTask.pid,
                        p.comm, p.pid);
            }
            return;
        }
        // SCX_DSQ_LOCAL_ON is not supported during direct dispatch [v7].
        if ((dsqId & SCX_DSQ_LOCAL_ON) == SCX_DSQ_LOCAL_ON) {
            scxOpsError("SCX_DSQ_LOCAL_ON can't be used for direct-dispatch");
            return;
        }
        p.scx.ddspDsqId = dsqId;
        p.scx.ddspEnqFlags = enqFlags;
        ctx.directDispatchDone = true;
    }

    /** ext.c: scx_rq_online() */
    boolean scxRqOnline(Rq rq) {
        return (rq.scx.flags & SCX_RQ_ONLINE) != 0 && rq.online;
    }

    /** ext.c: dequeue_task_scx() */
    void dequeueTaskScx(Rq rq, Task p, int deqFlags) {
        SchedExtEntity s = p.scx;
        if ((s.flags & SCX_TASK_QUEUED) == 0) {
            return;
        }
        ExecCtx ctx = ExecCtx.current(kernel);
        opsDequeue(ctx, p, deqFlags);
        // A currently running task which is going off rq first gets dequeued and then stops
        // running: trigger ops.stopping() early here instead of in put_prev_task_scx().
        if (rq.curr == p) {
            updateCurrScx(rq);
            if (ScxKeys.HAS_STOPPING.enabled()) {
                callTaskOp(ctx, ScxOp.STOPPING, p, 0);
            }
        }
        if (ScxKeys.HAS_QUIESCENT.enabled() && p.laOnRq() != Task.TASK_ON_RQ_MIGRATING) {
            callTaskOp(ctx, ScxOp.QUIESCENT, p, deqFlags);
        }
        if ((deqFlags & SCX_DEQ_SLEEP) != 0) {
            s.flags |= SCX_TASK_DEQD_FOR_SLEEP;
        } else {
            s.flags &= ~SCX_TASK_DEQD_FOR_SLEEP;
        }
        s.flags &= ~SCX_TASK_QUEUED;
        rq.scx.nrRunning--;
        rq.nrRunning--;
        dispatchDequeue(rq, p);
    }

    /** ext.c: ops_dequeue() */
    private void opsDequeue(ExecCtx ctx, Task p, long deqFlags) {
        SchedExtEntity s = p.scx;
        // dequeue is always temporary, don't reset runnable_at
        clrTaskRunnable(p, false);
        // acquire ensures that we see the preceding updates on QUEUED
        long opss = s.laOpsState();
        switch ((int) (opss & SCX_OPSS_STATE_MASK)) {
            case (int) SCX_OPSS_NONE:
                break;
            case (int) SCX_OPSS_QUEUEING:
                // QUEUEING is started and finished while holding p's rq lock.
                throw new KernelBug("ops_dequeue: " + p + " is QUEUEING under its rq lock");
            case (int) SCX_OPSS_QUEUED:
                if (ScxKeys.HAS_DEQUEUE.enabled()) {
                    callDequeue(ctx, p, deqFlags);
                }
                RacePoint.at(RacePoint.OPS_STATE);
                if (s.casOpsState(opss, SCX_OPSS_NONE)) {
                    kernel.tracer.ops_state(p, opss, SCX_OPSS_NONE);
                    break;
                }
                waitDispatchingThenNone(p);
                break;
            case (int) SCX_OPSS_DISPATCHING:
                waitDispatchingThenNone(p);
                break;
            default:
                throw new AssertionError();
        }
    }

    private void waitDispatchingThenNone(Task p) {
        // p is being dispatched to a DSQ: wait for the transfer to complete so p doesn't get
        // added to its DSQ after dequeueing is complete.
        waitOpsState(p, SCX_OPSS_DISPATCHING);
        if (p.scx.readOnceOpsState() != SCX_OPSS_NONE) {
            throw new KernelBug("ops_dequeue: " + p + " ops_state 0x" + Long.toHexString(p.scx.readOnceOpsState())
                    + " after DISPATCHING");
        }
    }

    /** ext.c: wait_ops_state(): spin while the state (acquire) equals {@code opss}. */
    private void waitOpsState(Task p, long opss) {
        while ((p.scx.laOpsState() & SCX_OPSS_STATE_MASK) == opss) {
            Thread.onSpinWait();
            RacePoint.at(RacePoint.OPS_STATE);
        }
    }

    // =============================================================================================
    // Dispatch path
    // =============================================================================================

    /** The dispatch kfuncs' common part: ext.c scx_dispatch_commit() [v7]. */
    void scxDispatchCommit(ExecCtx ctx, Task p, long dsqId, long enqFlags) {
        if (ctx.directDispatchTask != null) {
            markDirectDispatch(ctx, p, dsqId, enqFlags);
            return;
        }
        Rq rq = ctx.rq;
        if (rq == null) {
            scxOpsError("scx_bpf_dispatch() called outside any CPU");
            return;
        }
        Rq.ScxRq sx = rq.scx;
        if (sx.dspCursor >= dispatchMaxBatch) {
            scxOpsError("dispatch buffer overflow");
            return;
        }
        kernel.tracer.dispatch(ctx.cpu, p, dsqId);
        int i = sx.dspCursor++;
        sx.dspTask[i] = p;
        sx.dspQseq[i] = p.scx.readOnceOpsState() & SCX_OPSS_QSEQ_MASK;
        sx.dspDsqId[i] = dsqId;
        sx.dspEnqFlags[i] = enqFlags;
    }

    /** ext.c: flush_dispatch_buf() */
    void flushDispatchBuf(ExecCtx ctx, Rq rq) {
        Rq.ScxRq sx = rq.scx;
        int n = sx.dspCursor;
        for (int i = 0; i < n; i++) {
            Task p = sx.dspTask[i];
            sx.dspTask[i] = null;
            finishDispatch(ctx, rq, p, sx.dspQseq[i], sx.dspDsqId[i], sx.dspEnqFlags[i]);
        }
        sx.dspNrTasks += n;
        sx.dspCursor = 0;
    }

    /**
     * ext.c: finish_dispatch(): claims {@code p} (QUEUED with a matching qseq → DISPATCHING) and
     * moves it to the target DSQ. Stale or raced dispatches are dropped silently.
     */
    private void finishDispatch(ExecCtx ctx, Rq rq, Task p, long qseqAtDispatch, long dsqId, long enqFlags) {
        SchedExtEntity s = p.scx;
        for (;;) {
            // No need for _acquire here. p is accessed only after a successful cmpxchg.
            long opss = s.readOnceOpsState();
            long state = opss & SCX_OPSS_STATE_MASK;
            if (state == SCX_OPSS_DISPATCHING || state == SCX_OPSS_NONE) {
                return; // someone else already got to it
            }
            if (state == SCX_OPSS_QUEUED) {
                if ((opss & SCX_OPSS_QSEQ_MASK) != qseqAtDispatch) {
                    return; // dequeued and re-enqueued since: no claim
                }
                if (s.casOpsState(opss, SCX_OPSS_DISPATCHING)) {
                    kernel.tracer.ops_state(p, opss, SCX_OPSS_DISPATCHING);
                    RacePoint.at(RacePoint.OPS_STATE);
                    break;
                }
                continue;
            }
            // QUEUEING: do_enqueue_task() on another CPU is transferring p; wait for it.
            waitOpsState(p, SCX_OPSS_QUEUEING);
        }
        if ((s.flags & SCX_TASK_QUEUED) == 0) {
            throw new KernelBug("finish_dispatch: " + p + " is not QUEUED");
        }
        Dsq dsq = findDsqForDispatch(rq, dsqId, p);
        if (dsq.isLocal()) {
            dispatchToLocalDsq(ctx, rq, dsq, p, enqFlags);
        } else {
            dispatchEnqueue(dsq, p, enqFlags | SCX_ENQ_CLEAR_OPSS);
        }
    }

    /**
     * ext.c: dispatch_to_local_dsq() (6.12's single-lock protocol). {@code rq}: locked on entry,
     * locked on return, but may have been released in between.
     */
    void dispatchToLocalDsq(ExecCtx ctx, Rq rq, Dsq dstDsq, Task p, long enqFlags) {
        Rq srcRq = rqs[p.readOnceCpu()];
        Rq dstRq = dstDsq.rq;
        // We're synchronized against dequeue through DISPATCHING.
        if (rq == srcRq && rq == dstRq) {
            dispatchEnqueue(dstDsq, p, enqFlags | SCX_ENQ_CLEAR_OPSS);
            return;
        }
        if (!taskCanRunOnRemoteRq(p, dstRq, true)) {
            dispatchEnqueue(globalDsq, p, enqFlags | SCX_ENQ_CLEAR_OPSS);
            return;
        }
        // Mark the task under transfer with holding_cpu, release DISPATCHING, then lock the
        // source rq. The store_release ensures that dequeue sees holding_cpu.
        p.scx.writeOnceHoldingCpu(ctx.cpu);
        kernel.tracer.ops_state(p, SCX_OPSS_DISPATCHING, SCX_OPSS_NONE);
        p.scx.soOpsState(SCX_OPSS_NONE);
        RacePoint.at(RacePoint.OPS_STATE);
        if (rq != srcRq) {
            rq.scx.lockDroppedSinceAcquire = true;
            rq.lock.unlock();
            RacePoint.at(RacePoint.CROSS_CPU_MOVE);
            srcRq.lock.lock();
        }
        Rq locked = srcRq;
        // task_rq couldn't have changed if we're still the holding cpu
        if (p.scx.readOnceHoldingCpu() == ctx.cpu && srcRq == rqs[p.readOnceCpu()]) {
            if (srcRq == dstRq) {
                p.scx.writeOnceHoldingCpu(-1);
                dispatchEnqueue(dstRq.scx.localDsq, p, enqFlags);
            } else {
                moveRemoteTaskToLocalDsq(p, enqFlags, srcRq, dstRq);
                locked = dstRq;
            }
            // if the destination CPU is idle, wake it up
            if (p.schedClass.above(dstRq.curr.schedClass)) {
                kernel.reschedCurr(dstRq);
            }
        }
        if (locked != rq) {
            locked.lock.unlock();
            rq.lock.lock();
        }
    }

    /**
     * ext.c: move_remote_task_to_local_dsq(). {@code srcRq}: locked on entry, released on return;
     * {@code dstRq}: locked on return.
     */
    private void moveRemoteTaskToLocalDsq(Task p, long enqFlags, Rq srcRq, Rq dstRq) {
        srcRq.assertHeld();
        // the following marks p MIGRATING which excludes dequeue
        kernel.deactivateTask(srcRq, p, 0);
        kernel.setTaskCpu(p, dstRq.cpu);
        p.scx.stickyCpu = dstRq.cpu;
        srcRq.lock.unlock();
        RacePoint.at(RacePoint.CROSS_CPU_MOVE);
        dstRq.lock.lock();
        // As we own dst_rq, pass the SCX-specific enq_flags through extra_enq_flags.
        dstRq.scx.extraEnqFlags = enqFlags;
        kernel.activateTask(dstRq, p, 0);
        dstRq.scx.extraEnqFlags = 0;
    }

    /** ext.c: task_can_run_on_remote_rq() */
    private boolean taskCanRunOnRemoteRq(Task p, Rq rq, boolean triggerError) {
        int cpu = rq.cpu;
        if (!p.cpusAllowed.test(cpu)) {
            if (triggerError) {
                // [v7] text; 6.12 says "SCX_DSQ_LOCAL[_ON] target CPU %d not allowed for %s[%d]"
                scxOpsError("SCX_DSQ_LOCAL[_ON] verdict target cpu %d not allowed for %s[%d]", cpu, p.comm, p.pid);
            }
            return false;
        }
        return scxRqOnline(rq);
    }

    /**
     * ext.c: consume_dispatch_q(): moves the first task this CPU may run from {@code dsq} to this
     * CPU's local DSQ. {@code rq} is locked on entry and on return but is dropped while a task is
     * pulled from another CPU.
     */
    boolean consumeDispatchQ(Rq rq, Dsq dsq) {
        for (;;) {
            // Test the list without locking and skip if it seems empty.
            if (dsq.racyEmpty()) {
                return false;
            }
            dsq.lock.lock();
            boolean locked = true;
            try {
                Task p = dsq.first();
                boolean retry = false;
                for (; p != null; p = p.scx.dsqNext) {
                    Rq taskRq = rqs[p.readOnceCpu()];
                    if (taskRq == rq) {
                        consumeLocalTask(p, dsq, rq);
                        locked = false;
                        return true;
                    }
                    if (taskCanRunOnRemoteRq(p, rq, false)) {
                        locked = false;
                        if (consumeRemoteTask(rq, p, dsq, taskRq)) {
                            return true;
                        }
                        retry = true;
                        break;
                    }
                }
                if (!retry) {
                    return false;
                }
            } finally {
                if (locked) {
                    dsq.lock.unlock();
                }
            }
        }
    }

    /** ext.c: consume_local_task(): dsq locked on entry, released on return. */
    private void consumeLocalTask(Task p, Dsq dsq, Rq rq) {
        taskUnlinkFromDsq(p, dsq);
        Dsq local = rq.scx.localDsq;
        local.linkTail(p);
        p.scx.dsq = local;
        stranded(rq, rq.curr, p);
        dsq.lock.unlock();
    }

    /**
     * ext.c: consume_remote_task(). {@code dsq}: locked on entry, released on return.
     * {@code thisRq}: locked on entry and on return, released in between.
     */
    private boolean consumeRemoteTask(Rq thisRq, Task p, Dsq dsq, Rq srcRq) {
        thisRq.scx.lockDroppedSinceAcquire = true;
        thisRq.lock.unlock();
        if (unlinkDsqAndLockSrcRq(p, dsq, srcRq, thisRq.cpu)) {
            moveRemoteTaskToLocalDsq(p, 0, srcRq, thisRq);
            return true;
        }
        srcRq.lock.unlock();
        thisRq.lock.lock();
        return false;
    }

    /**
     * ext.c: unlink_dsq_and_lock_src_rq(): the migrating side of the holding_cpu handshake.
     * Unlinks {@code p} from {@code dsq} and claims it with {@code holding_cpu = cpu}, then swaps
     * the DSQ lock for the lock of the task's rq. A dequeue that ran in between (dispatch_dequeue()
     * under that rq lock and the DSQ lock) reset holding_cpu: then we lost and must not touch p.
     * {@code dsq}: locked on entry, released on return. {@code srcRq}: locked on return.
     *
     * @return true if we still hold the task (holding_cpu is ours and the task did not move)
     */
    boolean unlinkDsqAndLockSrcRq(Task p, Dsq dsq, Rq srcRq, int cpu) {
        taskUnlinkFromDsq(p, dsq);
        p.scx.writeOnceHoldingCpu(cpu);
        dsq.lock.unlock();
        RacePoint.at(RacePoint.CROSS_CPU_MOVE);
        srcRq.lock.lock();
        // task_rq couldn't have changed if we're still the holding cpu
        return p.scx.readOnceHoldingCpu() == cpu && srcRq == rqs[p.readOnceCpu()];
    }

    /** scx_bpf_consume() for the kfunc layer: flush the buffer first, then consume. */
    boolean consume(ExecCtx ctx, long dsqId) {
        Rq rq = ctx.rq;
        flushDispatchBuf(ctx, rq);
        Dsq dsq = findUserDsq(dsqId);
        if (dsqId == SCX_DSQ_GLOBAL) {
            dsq = globalDsq; // [v7] accepted SCX_DSQ_GLOBAL
        }
        if (dsq == null) {
            scxOpsError("invalid DSQ ID 0x%016x", dsqId);
            return false;
        }
        if (consumeDispatchQ(rq, dsq)) {
            // A successfully consumed task can be dispatched again: keep the dispatch loop going.
            rq.scx.dspNrTasks++;
            return true;
        }
        return false;
    }

    // =============================================================================================
    // balance / pick / put_prev / set_next: the v7 class hooks
    // =============================================================================================

    /**
     * ext.c: balance_scx() [v7]. The seed's cpu_acquire() fires at the top when the CPU was
     * released; then prev may be kept, the local DSQ and the global DSQ are checked, and
     * ops.dispatch() runs up to SCX_DSP_MAX_LOOPS rounds while it makes progress.
     */
    boolean balanceScx(Rq rq, Task prev) {
        rq.assertHeld();
        ExecCtx ctx = rq.ctx;
        boolean prevOnScx = prev.schedClass == SchedClass.EXT;
        Rq.ScxRq sx = rq.scx;
        sx.flags |= SCX_RQ_BALANCING;
        try {
            if (cpuPreemptEnabled() && sx.lpCpuReleased()) {
                // If the previous sched_class for the current CPU was not SCX, notify the BPF
                // scheduler that it again has control of the core. This callback complements
                // ->cpu_release(), which is emitted in scx_next_task_picked().
                if (ScxKeys.HAS_CPU_ACQUIRE.enabled()) {
                    callCpuAcquire(ctx, rq.cpu);
                }
                sx.writeOnceCpuReleased(false);
                sx.lockDroppedSinceAcquire = false;
                RacePoint.at(RacePoint.CPU_RELEASED);
                sx.releaseWindows++;
                kernel.tracer.cpu_acquire(rq.cpu, kernel.now());
            }
            if (prevOnScx) {
                updateCurrScx(rq);
                // If prev is runnable & has slice left, it has priority and fetching more just
                // increases latency for the fetched tasks.
                if ((prev.scx.flags & SCX_TASK_QUEUED) != 0 && prev.scx.slice != 0 && !scxOpsBypassing()) {
                    prev.scx.flags |= SCX_TASK_BAL_KEEP;
                    return true;
                }
            }
            // if there already are tasks to run, nothing to do
            if (sx.localDsq.readOnceNr() != 0) {
                return true;
            }
            if (consumeDispatchQ(rq, globalDsq)) {
                return true;
            }
            if (!ScxKeys.HAS_DISPATCH.enabled() || scxOpsBypassing() || !scxRqOnline(rq)) {
                return false;
            }
            int nrLoops = SCX_DSP_MAX_LOOPS;
            do {
                sx.dspNrTasks = 0;
                callDispatch(ctx, rq.cpu, prevOnScx ? prev : null);
                flushDispatchBuf(ctx, rq);
                if (sx.localDsq.readOnceNr() != 0) {
                    return true;
                }
                if (consumeDispatchQ(rq, globalDsq)) {
                    return true;
                }
                // ops.dispatch() can trap us in this loop by repeatedly dispatching ineligible
                // tasks. Bail after a few rounds and kick ourselves to retry.
                if (--nrLoops == 0) {
                    kickCpu(ctx, rq.cpu, 0);
                    break;
                }
            } while (sx.dspNrTasks != 0);
            return false;
        } finally {
            sx.flags &= ~SCX_RQ_BALANCING;
        }
    }

    /** ext.c: pick_next_task_scx() [v7] */
    Task pickNextTaskScx(Rq rq) {
        if (CoreProfile.KICK_SYNC.enabled()) {
            // [6.19] pick_task_scx() moves kick_sync too
            rq.scx.bumpPntSeq();
            RacePoint.at(RacePoint.PNT_SEQ);
        }
        Task p = rq.scx.localDsq.first();
        if (p == null) {
            return null;
        }
        setNextTaskScx(rq, p);
        if (p.scx.slice == 0) {
            if (!scxOpsBypassing() && !warnedZeroSlice) {
                klog(String.format("sched_ext: %s[%d] has zero slice in pick_next_task_scx()", p.comm, p.pid));
                warnedZeroSlice = true;
            }
            p.scx.slice = SCX_SLICE_DFL;
        }
        return p;
    }

    /** ext.c: set_next_task_scx() */
    void setNextTaskScx(Rq rq, Task p) {
        SchedExtEntity s = p.scx;
        ExecCtx ctx = ExecCtx.current(kernel);
        if ((s.flags & SCX_TASK_QUEUED) != 0) {
            // Core-sched might decide to execute p before it is dispatched. Call ops_dequeue()
            // to notify the BPF scheduler.
            opsDequeue(ctx, p, SCX_DEQ_CORE_SCHED_EXEC);
            dispatchDequeue(rq, p);
        }
        p.execStart = kernel.now();
        // see dequeue_task_scx() on why we skip when !QUEUED
        if (ScxKeys.HAS_RUNNING.enabled() && (s.flags & SCX_TASK_QUEUED) != 0) {
            callTaskOp(ctx, ScxOp.RUNNING, p, 0);
        }
        clrTaskRunnable(p, true);
        if ((s.slice == SCX_SLICE_INF) != ((rq.scx.flags & SCX_RQ_CAN_STOP_TICK) != 0)) {
            rq.scx.flags ^= SCX_RQ_CAN_STOP_TICK;
        }
    }

    /** ext.c: put_prev_task_scx() [v7] */
    void putPrevTaskScx(Rq rq, Task p) {
        SchedExtEntity s = p.scx;
        ExecCtx ctx = ExecCtx.current(kernel);
        if (CoreProfile.KICK_SYNC.enabled()) {
            // [6.19] "sched_ext: Fix SCX_KICK_WAIT to work reliably": pairs with the
            // smp_cond_load_acquire() in kick_cpus_irq_workfn()
            rq.scx.bumpPntSeq();
            RacePoint.at(RacePoint.PNT_SEQ);
        }
        updateCurrScx(rq);
        // see dequeue_task_scx() on why we skip when !QUEUED
        if (ScxKeys.HAS_STOPPING.enabled() && (s.flags & SCX_TASK_QUEUED) != 0) {
            callTaskOp(ctx, ScxOp.STOPPING, p, 1);
        }
        // balance_scx() may have decided that p should keep running.
        if ((s.flags & SCX_TASK_BAL_KEEP) != 0) {
            s.flags &= ~SCX_TASK_BAL_KEEP;
            setTaskRunnable(rq, p);
            dispatchEnqueue(rq.scx.localDsq, p, SCX_ENQ_HEAD);
            return;
        }
        if ((s.flags & SCX_TASK_QUEUED) != 0) {
            setTaskRunnable(rq, p);
            // If p has slice left and balance_scx() didn't tag it for keeping, p is getting
            // preempted by a higher priority scheduler class. Leave it at the head of the local
            // DSQ.
            if (s.slice != 0 && !scxOpsBypassing()) {
                dispatchEnqueue(rq.scx.localDsq, p, SCX_ENQ_HEAD);
                return;
            }
            // If the local DSQ is empty, tell ops.enqueue() that p is the only one available
            // for this cpu.
            if (rq.scx.localDsq.lpNr() == 0) {
                doEnqueueTask(ctx, rq, p, SCX_ENQ_LAST, -1);
            } else {
                doEnqueueTask(ctx, rq, p, 0, -1);
            }
        }
    }

    /** ext.c: update_curr_scx() */
    void updateCurrScx(Rq rq) {
        Task curr = rq.curr;
        long delta = kernel.updateCurrCommon(rq, curr);
        if (delta <= 0) {
            return;
        }
        if (curr.scx.slice != SCX_SLICE_INF) {
            curr.scx.slice -= Math.min(curr.scx.slice, delta);
        }
    }

    /** ext.c: task_tick_scx() */
    void taskTickScx(Rq rq, Task curr) {
        updateCurrScx(rq);
        // While bypassing, always resched as we can't trust the slice management.
        if (scxOpsBypassing()) {
            curr.scx.slice = 0;
        } else if (ScxKeys.HAS_TICK.enabled()) {
            callTaskOp(rq.ctx, ScxOp.TICK, curr, 0);
        }
        if (curr.scx.slice == 0) {
            kernel.reschedCurr(rq);
        }
    }

    /** ext.c: yield_task_scx() */
    void yieldTaskScx(Rq rq, Task p) {
        if (ScxKeys.HAS_YIELD.enabled()) {
            callYield(rq.ctx, p, null);
        } else {
            p.scx.slice = 0;
        }
    }

    /**
     * {@code static_branch_unlikely(&scx_ops_cpu_preempt)}, or with
     * {@link Config#CPU_PREEMPT_FLAG_TEST} 6.16's {@code scx->ops.flags & SCX_OPS_HAS_CPU_PREEMPT};
     * constant false when the feature is compiled out. Both Config fields are static finals, so
     * the JIT keeps only one of the three.
     */
    boolean cpuPreemptEnabled() {
        if (!Config.CPU_PREEMPT) {
            return false;
        }
        if (Config.CPU_PREEMPT_FLAG_TEST || CoreProfile.FLAG_TEST.enabled()) {
            return (opsFlags & SCX_OPS_HAS_CPU_PREEMPT) != 0;
        }
        return ScxKeys.SCX_OPS_CPU_PREEMPT.enabled();
    }

    /** ext.c: preempt_reason_from_class() (the seed's) */
    static int preemptReasonFromClass(SchedClass cls) {
        if (cls == SchedClass.STOP) {
            return SCX_CPU_PREEMPT_STOP;
        }
        if (cls == SchedClass.DL) {
            return SCX_CPU_PREEMPT_DL;
        }
        if (cls == SchedClass.RT) {
            return SCX_CPU_PREEMPT_RT;
        }
        return SCX_CPU_PREEMPT_UNKNOWN;
    }

    /**
     * ext.c: scx_next_task_picked() [v7], with the seed's hunk. Called by pick_next_task() under
     * the rq lock with the class that produced {@code p}. Bumps {@code pnt_seq} with a release
     * store on every pick; when the seed's static key is on and a class above ext won, sends
     * {@code ops.cpu_release()} once per window and sets {@code cpu_released} (even when the op is
     * absent).
     */
    void scxNextTaskPicked(Rq rq, Task p, SchedClass active) {
        if (!scxEnabled()) {
            return;
        }
        Rq.ScxRq sx = rq.scx;
        // Pairs with the smp_load_acquire() issued by a CPU in kick_cpus_irq_workfn() who is
        // waiting for this CPU to perform a reschedule.
        sx.bumpPntSeq();
        RacePoint.at(RacePoint.PNT_SEQ);
        if (active.above(SchedClass.EXT)) {
            strandLocalDsq(rq);
        }
        if (!cpuPreemptEnabled()) {
            return;
        }
        // The callback is conceptually meant to convey that the CPU is no longer under the
        // control of SCX. Don't invoke it if the CPU is staying on SCX, or going idle.
        if (!active.above(SchedClass.EXT)) {
            return;
        }
        // SCX was preempted by a higher priority sched_class: invoke ->cpu_release() if we have
        // not done so already. Only once between SCX being preempted and regaining control.
        releaseOnce(rq, active, p);
    }

    /**
     * The release both hooks send (scx_next_task_picked() [v7], switch_class() [6.12+]): unless
     * {@code cpu_released} is already set, {@code ops.cpu_release(cpu, {reason, next})} with
     * SCX_KF_CPU_RELEASE if implemented, then {@code cpu_released = true} either way. Rq lock held.
     */
    private void releaseOnce(Rq rq, SchedClass nextClass, Task next) {
        Rq.ScxRq sx = rq.scx;
        if (sx.lpCpuReleased()) {
            return;
        }
        int reason = preemptReasonFromClass(nextClass);
        if (ScxKeys.HAS_CPU_RELEASE.enabled()) {
            kernel.tracer.cpu_release_begin(rq.cpu);
            callCpuRelease(rq.ctx, rq.cpu, new CpuReleaseArgs(reason, next));
        }
        sx.writeOnceCpuReleased(true);
        RacePoint.at(RacePoint.CPU_RELEASED);
        kernel.tracer.cpu_release(rq.cpu, kernel.now(), reason, next);
    }

    /**
     * The 6.12+ profiles' replacement for {@link #scxNextTaskPicked}: core.c has no hook any more,
     * and {@code put_prev_task_scx(rq, prev, next)} ends with {@code switch_class(rq, next)} when
     * next is not an ext task. Here the pick comes after put_prev (the v7 flow), so the call is
     * made once next is known: an ext {@code prev} making way for a non-ext {@code p}.
     */
    void pickedSwitchClass(Rq rq, SchedClass prevClass, Task p, SchedClass active) {
        if (!scxEnabled()) {
            return;
        }
        if (active.above(SchedClass.EXT)) {
            strandLocalDsq(rq);
        }
        if (prevClass == SchedClass.EXT && active != SchedClass.EXT) {
            switchClass(rq, p);
        }
    }

    /** ext.c: switch_class() (6.12) */
    void switchClass(Rq rq, Task next) {
        SchedClass nextClass = next.schedClass;
        Rq.ScxRq sx = rq.scx;
        if (CoreProfile.PNT_SEQ_ON_SWITCH.enabled()) {
            // Pairs with the smp_load_acquire() issued by a CPU in kick_cpus_irq_workfn() who is
            // waiting for this CPU to perform a reschedule.
            sx.bumpPntSeq();
            RacePoint.at(RacePoint.PNT_SEQ);
        }
        if (!cpuPreemptEnabled()) {
            return;
        }
        // The callback is conceptually meant to convey that the CPU is no longer under the
        // control of SCX. Therefore, we don't need to invoke the callback if the next class is
        // below SCX (SCX itself or idle).
        if (!nextClass.above(SchedClass.EXT)) {
            return;
        }
        // At this point we know that SCX was preempted by a higher priority sched_class, so
        // invoke the ->cpu_release() callback if we have not done so already. We only send the
        // callback once between SCX being preempted, and it regaining control of the CPU.
        releaseOnce(rq, nextClass, next);
    }

    // =============================================================================================
    // scx_bpf_reenqueue_local() (the seed's)
    // =============================================================================================

    /**
     * ext.c: scx_bpf_reenqueue_local() [v7]: re-enqueue every task on this CPU's local DSQ with
     * SCX_ENQ_REENQ. The count is snapshotted first so tasks that ops.enqueue() sends straight
     * back to SCX_DSQ_LOCAL cannot loop it.
     */
    int reenqueueLocal(ExecCtx ctx) {
        if (!scxKfAllowed(ctx, SCX_KF_CPU_RELEASE)) {
            return 0;
        }
        Rq rq = ctx.rq;
        kernel.tracer.reenqueue_begin(rq.cpu);
        int nrEnqueued = reenqueueSnapshot(ctx, rq, rq.scx.localDsq, REENQ_DO_ENQUEUE);
        ctx.reenqueuedTasks += nrEnqueued;
        kernel.tracer.reenqueue(rq.cpu, kernel.now(), nrEnqueued);
        return nrEnqueued;
    }

    /** What scx_bpf_reenqueue_local() does with each task it takes off the local DSQ. */
    interface Reenqueuer {
        /** {@code p} was just taken off {@code dsq}, the local DSQ of {@code rq} (locked). */
        void reenqueue(Ext ext, ExecCtx ctx, Rq rq, Dsq dsq, Task p);
    }

    /** The kernel's: do_enqueue_task(rq, p, SCX_ENQ_REENQ, -1). Non-capturing: no allocation. */
    static final Reenqueuer REENQ_DO_ENQUEUE =
        (ext, ctx, rq, dsq, p) -> ext.doEnqueueTask(ctx, rq, p, SCX_ENQ_REENQ, -1);

    /**
     * The body of scx_bpf_reenqueue_local() [v7]: snapshot {@code nr}, then take the first task
     * that many times. Tasks {@code reenqueue} puts straight back on this DSQ go behind the
     * snapshot, so they cannot loop it. {@code rq}'s lock is held; {@code dsq} is its local DSQ.
     */
    int reenqueueSnapshot(ExecCtx ctx, Rq rq, Dsq dsq, Reenqueuer reenqueue) {
        rq.assertHeld();
        // Get the number of tasks on the local DSQ before iterating over it to pull off tasks.
        int nrEnqueued = dsq.lpNr();
        for (int i = 0; i < nrEnqueued; i++) {
            Task p = dsq.first();
            if (p == null) {
                warnOnce("scx_bpf_reenqueue_local(): local DSQ ran out of tasks");
                return i;
            }
            dispatchDequeue(rq, p);
            reenqueue.reenqueue(this, ctx, rq, dsq, p);
        }
        return nrEnqueued;
    }

    // =============================================================================================
    // Wakeup CPU selection and idle tracking
    // =============================================================================================

    /** ext.c: select_task_rq_scx() [v7] */
    int selectTaskRqScx(Task p, int prevCpu, int wakeFlags) {
        if ((wakeFlags & Task.WF_EXEC) != 0) {
            return prevCpu;
        }
        ExecCtx ctx = ExecCtx.current(kernel);
        if (ScxKeys.HAS_SELECT_CPU.enabled() && !scxOpsBypassing()) {
            Task savedDdsp = ctx.directDispatchTask;
            boolean savedDone = ctx.directDispatchDone;
            ctx.directDispatchTask = p;
            ctx.directDispatchDone = false;
            int cpu = callSelectCpu(ctx, p, prevCpu, wakeFlags);
            ctx.directDispatchTask = savedDdsp;
            ctx.directDispatchDone = savedDone;
            if (opsCpuValid(cpu, "from ops.select_cpu()")) {
                return cpu;
            }
            return prevCpu;
        }
        boolean[] found = ctx.found;
        int cpu = scxSelectCpuDfl(ctx, p, prevCpu, wakeFlags, found);
        if (found[0]) {
            p.scx.slice = SCX_SLICE_DFL;
            p.scx.ddspDsqId = SCX_DSQ_LOCAL;
        }
        return cpu;
    }

    /** ext.c: scx_select_cpu_dfl() [v7] */
    int scxSelectCpuDfl(ExecCtx ctx, Task p, int prevCpu, long wakeFlags, boolean[] found) {
        found[0] = false;
        if (!ScxKeys.SCX_BUILTIN_IDLE_ENABLED.enabled()) {
            scxOpsError("built-in idle tracking is disabled");
            return prevCpu;
        }
        // If WAKE_SYNC, the waker's local DSQ is empty, and the system is under utilized, wake
        // up p to the local DSQ of the waker.
        if ((wakeFlags & SCX_WAKE_SYNC) != 0 && p.cpusAllowed.weight() > 1 && !idleMaskEmpty() && ctx.rq != null
                && (ctx.rq.curr.pflags & Task.PF_EXITING) == 0) {
            int cpu = ctx.cpu;
            if (p.cpusAllowed.test(cpu) && ctx.rq.scx.localDsq.readOnceNr() == 0) {
                found[0] = true;
                return cpu;
            }
        }
        if (p.cpusAllowed.weight() == 1) {
            if (testAndClearCpuIdle(prevCpu)) {
                found[0] = true;
            }
            return prevCpu;
        }
        if (testAndClearCpuIdle(prevCpu)) {
            found[0] = true;
            return prevCpu;
        }
        int cpu = scxPickIdleCpu(ctx, p.cpusAllowed, 0);
        if (cpu >= 0) {
            found[0] = true;
            return cpu;
        }
        return prevCpu;
    }

    private boolean idleMaskEmpty() {
        for (int i = 0; i < idleCpu.length(); i++) {
            if (idleCpu.get(i) != 0) {
                return false;
            }
        }
        return true;
    }

    /** ext.c: test_and_clear_cpu_idle(): claiming an idle CPU = clearing its bit. */
    boolean testAndClearCpuIdle(int cpu) {
        int i = cpu >>> 6;
        long bit = 1L << cpu;
        for (;;) {
            long old = idleCpu.get(i);
            if ((old & bit) == 0) {
                return false;
            }
            if (idleCpu.compareAndSet(i, old, old & ~bit)) {
                return true;
            }
        }
    }

    /** Whether {@code cpu} is in the idle mask (racy hint). */
    public boolean testCpuIdle(int cpu) {
        return (idleCpu.get(cpu >>> 6) & (1L << cpu)) != 0;
    }

    private void setCpuIdle(int cpu, boolean idle) {
        int i = cpu >>> 6;
        long bit = 1L << cpu;
        for (;;) {
            long old = idleCpu.get(i);
            long nu = idle ? old | bit : old & ~bit;
            if (old == nu || idleCpu.compareAndSet(i, old, nu)) {
                return;
            }
        }
    }

    /** ext.c: reset_idle_masks(): [v7] all CPUs idle. */
    void resetIdleMasks() {
        for (int c = 0; c < nrCpus; c++) {
            setCpuIdle(c, true);
        }
    }

    private final AtomicInteger distributeRotor = new AtomicInteger();

    /** ext.c: scx_pick_idle_cpu(): cpumask_any_and_distribute() then claim; retry on a lost race. */
    int scxPickIdleCpu(ExecCtx ctx, CpuMask allowed, long flags) {
        for (;;) {
            int start = Math.floorMod(distributeRotor.get(), nrCpus);
            int found = -1;
            for (int k = 0; k < nrCpus; k++) {
                int c = (start + k) % nrCpus;
                if (allowed.test(c) && testCpuIdle(c)) {
                    found = c;
                    break;
                }
            }
            if (found < 0) {
                return -EBUSY;
            }
            distributeRotor.set(found + 1);
            if (testAndClearCpuIdle(found)) {
                return found;
            }
        }
    }

    /** ext.c: scx_update_idle() / __scx_update_idle(), from the idle class's set/put. */
    void updateIdle(Rq rq, boolean idle) {
        if (!scxEnabled()) {
            return;
        }
        if (ScxKeys.HAS_UPDATE_IDLE.enabled() && !scxOpsBypassing()) {
            callUpdateIdle(rq.ctx, rq.cpu, idle);
            if (!ScxKeys.SCX_BUILTIN_IDLE_ENABLED.enabled()) {
                return;
            }
        }
        setCpuIdle(rq.cpu, idle);
    }

    /** The built-in idle mask as a CpuMask (scx_bpf_get_idle_cpumask()). */
    CpuMask idleCpumask() {
        int n = 0;
        int[] cpus = new int[nrCpus];
        for (int c = 0; c < nrCpus; c++) {
            if (testCpuIdle(c)) {
                cpus[n++] = c;
            }
        }
        return n == 0 ? CpuMask.of() : CpuMask.of(java.util.Arrays.copyOf(cpus, n));
    }

    // =============================================================================================
    // Kicks (SCX_KICK_IDLE / PREEMPT / WAIT) and pnt_seq
    // =============================================================================================

    /** ext.c: can_skip_idle_kick() */
    private static boolean canSkipIdleKick(Rq rq) {
        return rq.curr != rq.idle && (rq.scx.flags & SCX_RQ_BALANCING) == 0;
    }

    /**
     * ext.c: scx_bpf_kick_cpu(): records the kick in this CPU's masks and queues the irq work; the
     * kick itself happens after the current op returns ({@link #kickCpusIrqWorkfn}).
     */
    void kickCpu(ExecCtx ctx, int cpu, long flags) {
        if (!opsCpuValid(cpu, null)) {
            return;
        }
        // While bypassing for PM ops, IRQ handling may not be online: suppress kicking.
        if (scxOpsBypassing()) {
            return;
        }
        if ((flags & SCX_KICK_IDLE) != 0) {
            Rq target = rqs[cpu];
            if ((flags & (SCX_KICK_PREEMPT | SCX_KICK_WAIT)) != 0) {
                scxOpsError("PREEMPT/WAIT cannot be used with SCX_KICK_IDLE");
            }
            // raw_spin_rq_trylock(): fails on a lock this thread already holds, as the kernel's.
            if (!target.lock.isHeldByCurrentThread() && target.lock.tryLock()) {
                try {
                    if (canSkipIdleKick(target)) {
                        return;
                    }
                } finally {
                    target.lock.unlock();
                }
            }
            ExecCtx.setBit(ctx.cpusToKickIfIdle, cpu);
        } else {
            ExecCtx.setBit(ctx.cpusToKick, cpu);
            if ((flags & SCX_KICK_PREEMPT) != 0) {
                ExecCtx.setBit(ctx.cpusToPreempt, cpu);
            }
            if ((flags & SCX_KICK_WAIT) != 0) {
                ExecCtx.setBit(ctx.cpusToWait, cpu);
            }
        }
        kernel.tracer.kick(ctx.cpu, kernel.now(), cpu, flags);
        // irq_work_queue(&this_rq->scx.kick_cpus_irq_work)
        ctx.kickPending = true;
        if (ctx.rq != null) {
            ctx.rq.wakeCpuThread();
        }
    }

    /** ext.c: kick_one_cpu() */
    private boolean kickOneCpu(int cpu, ExecCtx ctx) {
        Rq rq = rqs[cpu];
        boolean shouldWait = false;
        rq.lock.lock();
        try {
            // During CPU hotplug, a CPU may depend on kicking itself to make forward progress.
            if (rq.online || cpu == ctx.cpu) {
                if (ExecCtx.testBit(ctx.cpusToPreempt, cpu)) {
                    Task curr = rq.curr;
                    if (curr.schedClass == SchedClass.EXT) {
                        curr.scx.slice = 0;
                    }
                    ExecCtx.clearBit(ctx.cpusToPreempt, cpu);
                }
                if (ExecCtx.testBit(ctx.cpusToWait, cpu)) {
                    if (CoreProfile.KICK_SYNC.enabled() && rq.curr.schedClass != SchedClass.EXT) {
                        // [6.19] a CPU running a higher (or the idle) class has nothing to wait for
                        ExecCtx.clearBit(ctx.cpusToWait, cpu);
                    } else {
                        ctx.pseqs[cpu] = rq.scx.lpPntSeq();
                        ctx.waitSwitches[cpu] = rq.nrSwitches;
                        shouldWait = true;
                    }
                }
                kernel.reschedCurr(rq);
            } else {
                ExecCtx.clearBit(ctx.cpusToPreempt, cpu);
                ExecCtx.clearBit(ctx.cpusToWait, cpu);
            }
        } finally {
            rq.lock.unlock();
        }
        return shouldWait;
    }

    /** ext.c: kick_one_cpu_if_idle() */
    private void kickOneCpuIfIdle(int cpu, ExecCtx ctx) {
        Rq rq = rqs[cpu];
        rq.lock.lock();
        try {
            if (!canSkipIdleKick(rq) && (rq.online || cpu == ctx.cpu)) {
                kernel.reschedCurr(rq);
            }
        } finally {
            rq.lock.unlock();
        }
    }

    /**
     * ext.c: kick_cpus_irq_workfn(). Runs on the kicking CPU after the op that kicked returned,
     * with no rq lock held. A requested SCX_KICK_WAIT becomes {@code waitPending}: the CPU spins
     * in {@link #pollKickWait} (the kernel's busy-wait in hard-IRQ context) before doing anything
     * else.
     */
    void kickCpusIrqWorkfn(ExecCtx ctx) {
        ctx.kickPending = false;
        boolean shouldWait = false;
        for (int cpu = nextBit(ctx.cpusToKick, 0); cpu >= 0; cpu = nextBit(ctx.cpusToKick, cpu + 1)) {
            shouldWait |= kickOneCpu(cpu, ctx);
            ExecCtx.clearBit(ctx.cpusToKick, cpu);
            ExecCtx.clearBit(ctx.cpusToKickIfIdle, cpu);
        }
        for (int cpu = nextBit(ctx.cpusToKickIfIdle, 0); cpu >= 0; cpu = nextBit(ctx.cpusToKickIfIdle, cpu + 1)) {
            kickOneCpuIfIdle(cpu, ctx);
            ExecCtx.clearBit(ctx.cpusToKickIfIdle, cpu);
        }
        if (shouldWait) {
            ctx.waitPending = true;
            RacePoint.at(RacePoint.KICK_WAIT);
            pollKickWait(ctx);
        } else {
            java.util.Arrays.fill(ctx.cpusToWait, 0);
        }
    }

    /**
     * The SCX_KICK_WAIT loop of kick_cpus_irq_workfn(): for each CPU waited on,
     * {@code while (smp_load_acquire(&target->scx.pnt_seq) == pseqs[cpu]) cpu_relax();}. The
     * acquire pairs with the release in {@link #scxNextTaskPicked}: once the new value is seen,
     * everything the target wrote before its pick is visible here. One poll per call so the CPU
     * loop (and a stepping test) can interleave; a stopping kernel ends the wait.
     *
     * @return true when the wait is over
     */
    boolean pollKickWait(ExecCtx ctx) {
        for (int cpu = nextBit(ctx.cpusToWait, 0); cpu >= 0; cpu = nextBit(ctx.cpusToWait, cpu + 1)) {
            if (cpu == ctx.cpu || rqs[cpu].scx.getPntSeqAcquire() != ctx.pseqs[cpu] || kernel.stopping) {
                ExecCtx.clearBit(ctx.cpusToWait, cpu);
            } else {
                kernel.tracer.kick_wait_spin(ctx.cpu, rqs[cpu], ctx.pseqs[cpu], ctx.waitSwitches[cpu]);
                RacePoint.at(RacePoint.KICK_WAIT);
            }
        }
        if (ExecCtx.isEmpty(ctx.cpusToWait)) {
            ctx.waitPending = false;
            return true;
        }
        return false;
    }

    static int nextBit(long[] m, int from) {
        for (int i = from >>> 6; i < m.length; i++) {
            long w = m[i];
            if (i == from >>> 6) {
                w &= -1L << from;
            }
            if (w != 0) {
                return (i << 6) + Long.numberOfTrailingZeros(w);
            }
        }
        return -1;
    }

    // =============================================================================================
    // Task lifecycle hooks (fork, enable/disable task, class switches, free)
    // =============================================================================================

    private void scxSetTaskState(Task p, int state) {
        int prev = p.scx.taskState();
        boolean ok;
        switch (state) {
            case SCX_TASK_NONE:
                ok = true;
                break;
            case SCX_TASK_INIT:
                ok = prev == SCX_TASK_NONE;
                break;
            case SCX_TASK_READY:
                ok = prev == SCX_TASK_INIT || prev == SCX_TASK_ENABLED;
                break;
            case SCX_TASK_ENABLED:
                ok = prev == SCX_TASK_READY;
                break;
            default:
                ok = false;
        }
        if (!ok) {
            klog(String.format("WARNING: sched_ext: Invalid task state transition %d -> %d for %s[%d]", prev, state,
                    p.comm, p.pid));
        }
        p.scx.flags = (p.scx.flags & ~SCX_TASK_STATE_MASK) | (state << SCX_TASK_STATE_SHIFT);
    }

    void scxSetTaskStateReady(Task p) {
        scxSetTaskState(p, SCX_TASK_READY);
    }

    /** ext.c: scx_ops_init_task(): 0 or a negative errno. */
    int scxOpsInitTask(Task p, boolean fork) {
        p.scx.disallow = false;
        if (ScxKeys.HAS_INIT_TASK.enabled()) {
            ExecCtx ctx = ExecCtx.current(kernel);
            enterOp(ctx, ScxOp.INIT_TASK, SCX_KF_SLEEPABLE);
            Task saved = ctx.kfTask0;
            ctx.kfTask0 = p;
            int ret;
            try {
                ret = ops.initTask(p, new InitTaskArgs(fork));
            } catch (Throwable t) {
                opThrew(ScxOp.INIT_TASK, t);
                ret = 0;
            } finally {
                ctx.kfTask0 = saved;
                exitOp(ctx, SCX_KF_SLEEPABLE);
            }
            if (ret != 0) {
                return opsSanitizeErr("init_task", ret);
            }
        }
        scxSetTaskState(p, SCX_TASK_INIT);
        if (p.scx.disallow) {
            if (fork) {
                scxOpsError("ops.init_task() set task->scx.disallow for %s[%d] during fork", p.comm, p.pid);
            } else if (p.policy == Task.SCHED_EXT) {
                p.policy = Task.SCHED_NORMAL;
                nrRejected.incrementAndGet();
            }
        }
        p.scx.flags |= SCX_TASK_RESET_RUNNABLE_AT;
        return 0;
    }

    /** ext.c: ops_sanitize_err() */
    int opsSanitizeErr(String opsName, int err) {
        if (err < 0 && err >= -4095) {
            return err;
        }
        scxOpsError("ops.%s() returned an invalid errno %d", opsName, err);
        return -EPROTO;
    }

    /** ext.c: scx_ops_enable_task(); rq lock held. */
    void scxOpsEnableTask(Task p) {
        int weight = Task.scxWeight(p.nice, p.policy);
        p.scx.weight = weight;
        ExecCtx ctx = ExecCtx.current(kernel);
        if (ScxKeys.HAS_ENABLE.enabled()) {
            callTaskOp(ctx, ScxOp.ENABLE, p, 0);
        }
        scxSetTaskState(p, SCX_TASK_ENABLED);
        if (ScxKeys.HAS_SET_WEIGHT.enabled()) {
            callTaskOp(ctx, ScxOp.SET_WEIGHT, p, weight);
        }
    }

    /** ext.c: scx_ops_disable_task(); rq lock held. */
    void scxOpsDisableTask(Task p) {
        if (ScxKeys.HAS_DISABLE.enabled()) {
            callTaskOp(ExecCtx.current(kernel), ScxOp.DISABLE, p, 0);
        }
        scxSetTaskState(p, SCX_TASK_READY);
    }

    /** ext.c: scx_ops_exit_task(); rq lock held. */
    void scxOpsExitTask(Task p) {
        boolean cancelled = false;
        switch (p.scx.taskState()) {
            case SCX_TASK_NONE:
                return;
            case SCX_TASK_INIT:
                cancelled = true;
                break;
            case SCX_TASK_READY:
                break;
            case SCX_TASK_ENABLED:
                scxOpsDisableTask(p);
                break;
            default:
                throw new AssertionError();
        }
        if (ScxKeys.HAS_EXIT_TASK.enabled()) {
            callTaskOp(ExecCtx.current(kernel), ScxOp.EXIT_TASK, p, cancelled ? 1 : 0);
        }
        scxSetTaskState(p, SCX_TASK_NONE);
    }

    /** ext.c: scx_fork(): false if ops.init_task() refused the task (the fork fails). */
    boolean scxFork(Task p) {
        if (initTaskEnabled) {
            return scxOpsInitTask(p, true) == 0;
        }
        return true;
    }

    /** ext.c: scx_post_fork() */
    void scxPostFork(Task p) {
        if (initTaskEnabled) {
            scxSetTaskState(p, SCX_TASK_READY);
            if (p.schedClass == SchedClass.EXT) {
                Rq rq = kernel.rqs[p.readOnceCpu()];
                rq.lock.lock();
                try {
                    scxOpsEnableTask(p);
                } finally {
                    rq.lock.unlock();
                }
            }
        }
    }

    /** ext.c: sched_ext_free(): the final put of a dead task; its rq lock is held. */
    void schedExtFree(Task p) {
        p.scx.freed = true;
        scxOpsExitTask(p);
    }

    /** ext.c: switching_to_scx() */
    void switchingToScx(Rq rq, Task p) {
        scxOpsEnableTask(p);
        if (ScxKeys.HAS_SET_CPUMASK.enabled()) {
            callTaskOp(ExecCtx.current(kernel), ScxOp.SET_CPUMASK, p, 0);
        }
    }

    /** ext.c: switched_from_scx() */
    void switchedFromScx(Rq rq, Task p) {
        scxOpsDisableTask(p);
    }

    /**
     * ext.c: set_cpus_allowed_scx(): the new mask is already in {@code p->cpus_ptr}
     * (set_cpus_allowed_common()); tell the BPF scheduler the effective one. Task rq lock held.
     */
    void setCpusAllowedScx(Rq rq, Task p) {
        rq.assertHeld();
        if (ScxKeys.HAS_SET_CPUMASK.enabled()) {
            callTaskOp(ExecCtx.current(kernel), ScxOp.SET_CPUMASK, p, 0);
        }
    }

    // =============================================================================================
    // Stranded-task accounting (scx-emu's measure of the seed's effect)
    // =============================================================================================

    /**
     * A task entered a local DSQ: stranded from now if that CPU runs a higher class. Not while
     * the CPU balances for itself: a task it pulls then is picked by the same schedule.
     */
    private void stranded(Rq rq, Task curr, Task p) {
        if (curr.schedClass.above(SchedClass.EXT) && (rq.scx.flags & SCX_RQ_BALANCING) == 0
                && p.strandedSince < 0) {
            p.strandedSince = kernel.now();
        }
    }

    /** A higher class was picked on {@code rq}: everything on its local DSQ is stranded now. */
    private void strandLocalDsq(Rq rq) {
        long now = -1;
        for (Task p = rq.scx.localDsq.first(); p != null; p = p.scx.dsqNext) {
            if (p.strandedSince < 0) {
                if (now < 0) {
                    now = kernel.now();
                }
                p.strandedSince = now;
            }
        }
    }

    /** A task left a local DSQ: record how long it sat stranded, if it was. */
    private void unstranded(Task p) {
        long since = p.strandedSince;
        if (since >= 0) {
            p.strandedSince = -1;
            Rq rq = rqs[p.readOnceCpu()];
            rq.stats.recordStranded(kernel.now() - since);
        }
    }

    // =============================================================================================
    // Dump
    // =============================================================================================

    /** ext.c: scx_dump_state(): the debug dump in the kernel's line formats. */
    String dumpState(ExitInfo ei, int dumpLen) {
        return ExtDump.dumpState(this, ei, dumpLen);
    }

    Rq[] rqs() {
        return rqs;
    }

    void trackTimer(Timer t) {
        bpfTimers.add(t);
    }

    /** The BPF program is gone: its timers are cancelled (bpf_timer freed with the map). */
    void cancelBpfTimers() {
        for (Timer t : bpfTimers) {
            TimerQueue q = t.queue;
            if (q != null) {
                q.cancel(t);
            }
        }
        bpfTimers.clear();
    }
}
