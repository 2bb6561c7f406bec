// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.scxemu.kernel.ScxConsts.*;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
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
 *   <li>{@code idle}, {@code dispatch}, {@code kick}: the parts of ext.c that live in their own
 *       classes ({@link ExtIdle}, {@link ExtDispatch}, {@link ExtKick}); made in the constructor,
 *       final, one each per Ext.
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
    /** Idle tracking and the default CPU selection (ext_idle.c from 6.15). */
    final ExtIdle idle;
    /** The DSQ, dispatch and consume machinery. */
    final ExtDispatch dispatch;
    /** scx_bpf_kick_cpu() and the kick irq work. */
    final ExtKick kick;
    /** The 6.12 class hooks (balance_one(), pick_task_scx(), put_prev_task_scx(rq, p, next)). */
    final ExtCore612 core612;
    /** sched_ext's cgroup support (6.12's CONFIG_EXT_GROUP_SCHED). */
    final ExtCgroup cgroup;

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
        this.helper = new Helper(this);
        this.idle = new ExtIdle(this);
        this.dispatch = new ExtDispatch(this);
        this.kick = new ExtKick(this);
        this.core612 = new ExtCore612(this, kernel, nrCpus);
        this.cgroup = new ExtCgroup(this);
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
        // p->scx.disallow is not looked at here: ops.init_task() setting it only takes a
        // SCHED_EXT task back to SCHED_NORMAL, so in full-switch mode the task still goes to ext
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

    /**
     * A kf_mask as the profile's kernel numbers it, for error texts. The emulator keeps v7's bits;
     * 6.12 removed SCX_KF_SLEEPABLE (bit 0) and moved every other bit down by one, so a sleepable
     * context reads as SCX_KF_UNLOCKED (0) there.
     */
    static int kfMaskOfProfile(int v7Mask) {
        return CoreProfile.CORE_6_12.enabled() ? v7Mask >>> 1 : v7Mask;
    }

    /** ext.c: scx_kf_allow() */
    private void scxKfAllow(ExecCtx ctx, int mask) {
        if ((ctx.kfMask & (mask | higherBits(mask))) != 0) {
            warnOnce("invalid nesting current->scx.kf_mask=0x" + Integer.toHexString(kfMaskOfProfile(ctx.kfMask))
                    + " mask=0x" + Integer.toHexString(kfMaskOfProfile(mask)));
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
            scxOpsError("kfunc with mask 0x%x called from an operation only allowing 0x%x", kfMaskOfProfile(mask),
                    kfMaskOfProfile(ctx.kfMask));
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

    void callUpdateIdle(ExecCtx ctx, int cpu, boolean idle) {
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

    /** SCX_CALL_OP(0, cpu_acquire, cpu_of(rq), NULL): v7 mask 0; 6.12 calls it with SCX_KF_REST. */
    private void callCpuAcquire(ExecCtx ctx, int cpu) {
        int mask = CoreProfile.CORE_6_12.enabled() ? SCX_KF_REST : 0;
        enterOp(ctx, ScxOp.CPU_ACQUIRE, mask);
        try {
            ops.cpuAcquire(cpu, ACQUIRE_ARGS);
        } catch (Throwable t) {
            opThrew(ScxOp.CPU_ACQUIRE, t);
        } finally {
            exitOp(ctx, mask);
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

    void warnOnce(String msg) {
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
    // CPU ids from the BPF scheduler
    // =============================================================================================

    /** ext.c: ops_cpu_valid() */
    boolean opsCpuValid(int cpu, String where) {
        if (cpu >= 0 && cpu < nrCpus) {
            return true;
        }
        scxOpsError("invalid CPU %d%s%s", cpu, where != null ? " " : "", where != null ? where : "");
        return false;
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
        // A running task put back (a RESTORE re-enqueue) goes straight to set_next_task_scx(),
        // which wants it off the BPF scheduler's hands: send it to this CPU's local DSQ.
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
        // v7 tells the scheduler about every enqueue, a cross-CPU move included; 6.12 skips the
        // activate half of a migration (task_on_rq_migrating())
        if (ScxKeys.HAS_RUNNABLE.enabled()
                && (!CoreProfile.CORE_6_12.enabled() || p.laOnRq() != Task.TASK_ON_RQ_MIGRATING)) {
            callTaskOp(ctx, ScxOp.RUNNABLE, p, enqFlags);
        }
        doEnqueueTask(ctx, rq, p, enqFlags, stickyCpu);
    }

    /** ext.c: do_enqueue_task() [v7] */
    void doEnqueueTask(ExecCtx ctx, Rq rq, Task p, long enqFlags, int stickyCpu) {
        SchedExtEntity s = p.scx;
        // rq migration
        if (stickyCpu == rq.cpu) {
            dispatch.dispatchEnqueue(rq.scx.localDsq, p, enqFlags);
            return;
        }
        if (!scxRqOnline(rq)) {
            enqueueLocal(rq, p, enqFlags);
            return;
        }
        if (scxOpsBypassing()) {
            // [v7] a last task stays local; 6.12 sends everything to the global DSQ (its
            // balance_one() keeps a last prev running instead)
            if ((enqFlags & SCX_ENQ_LAST) != 0 && !CoreProfile.CORE_6_12.enabled()) {
                enqueueLocal(rq, p, enqFlags);
            } else {
                enqueueGlobal(p, enqFlags);
            }
            return;
        }
        if (s.ddspDsqId != SCX_DSQ_INVALID) {
            dispatch.directDispatch(ctx, p, enqFlags);
            return;
        }
        // see SCX_OPS_ENQ_EXITING
        if (!ScxKeys.SCX_OPS_ENQ_EXITING.enabled() && (p.pflags & Task.PF_EXITING) != 0) {
            enqueueLocal(rq, p, enqFlags);
            return;
        }
        // see SCX_OPS_ENQ_LAST [v7]; 6.12 has no such step: SCX_ENQ_LAST only ever reaches a
        // scheduler that set SCX_OPS_ENQ_LAST
        if (!CoreProfile.CORE_6_12.enabled() && !ScxKeys.SCX_OPS_ENQ_LAST.enabled()
                && (enqFlags & SCX_ENQ_LAST) != 0) {
            enqueueLocal(rq, p, enqFlags);
            return;
        }
        if (!ScxKeys.HAS_ENQUEUE.enabled()) {
            enqueueGlobal(p, enqFlags);
            return;
        }
        // none of the shortcuts above applied: the task goes to ops.enqueue()
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
            dispatch.directDispatch(ctx, p, enqFlags);
            return;
        }
        // No direct dispatch: the task is still QUEUEING, and a dispatching or dequeuing CPU may
        // be spinning on that. This release store pairs with the acquire in their wait.
        kernel.tracer.ops_state(p, SCX_OPSS_QUEUEING | qseq, SCX_OPSS_QUEUED | qseq);
        s.soOpsState(SCX_OPSS_QUEUED | qseq);
        RacePoint.at(RacePoint.OPS_STATE);
    }

    private void enqueueLocal(Rq rq, Task p, long enqFlags) {
        p.scx.slice = SCX_SLICE_DFL;
        dispatch.dispatchEnqueue(rq.scx.localDsq, p, enqFlags);
    }

    private void enqueueGlobal(Task p, long enqFlags) {
        p.scx.slice = SCX_SLICE_DFL;
        dispatch.dispatchEnqueue(globalDsq, p, enqFlags);
    }

    /** ext.c: scx_rq_online() */
    static boolean scxRqOnline(Rq rq) {
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
        // The current task leaving the rq is dequeued before it is switched out, so its
        // ops.stopping() is sent now rather than from put_prev_task_scx().
        if (rq.curr == p) {
            updateCurrScx(rq);
            if (ScxKeys.HAS_STOPPING.enabled()) {
                callTaskOp(ctx, ScxOp.STOPPING, p, 0);
            }
        }
        // v7: every dequeue, a migration's deactivate included; 6.12: not while migrating
        if (ScxKeys.HAS_QUIESCENT.enabled()
                && (!CoreProfile.CORE_6_12.enabled() || p.laOnRq() != Task.TASK_ON_RQ_MIGRATING)) {
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
        dispatch.dispatchDequeue(rq, p);
    }

    /** ext.c: ops_dequeue() */
    private void opsDequeue(ExecCtx ctx, Task p, long deqFlags) {
        SchedExtEntity s = p.scx;
        // a dequeue is never final here: keep runnable_at as it is
        clrTaskRunnable(p, false);
        // load-acquire: if the state reads QUEUED, the writes made before it are seen too
        long opss = s.laOpsState();
        switch ((int) (opss & SCX_OPSS_STATE_MASK)) {
            case (int) SCX_OPSS_NONE:
                break;
            case (int) SCX_OPSS_QUEUEING:
                // QUEUEING begins and ends under p's rq lock, which we hold: it cannot be seen.
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
        // Another CPU is moving p to a DSQ right now. Wait until it is done, or p would land on
        // that DSQ after this dequeue has finished.
        waitOpsState(p, SCX_OPSS_DISPATCHING);
        if (p.scx.readOnceOpsState() != SCX_OPSS_NONE) {
            throw new KernelBug("ops_dequeue: " + p + " ops_state 0x" + Long.toHexString(p.scx.readOnceOpsState())
                    + " after DISPATCHING");
        }
    }

    /** ext.c: wait_ops_state(): spin while the state (acquire) equals {@code opss}. */
    static void waitOpsState(Task p, long opss) {
        while ((p.scx.laOpsState() & SCX_OPSS_STATE_MASK) == opss) {
            Thread.onSpinWait();
            RacePoint.at(RacePoint.OPS_STATE);
        }
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
            cpuAcquireIfReleased(ctx, rq);
            if (prevOnScx) {
                updateCurrScx(rq);
                // prev still queued with slice to spare goes on running: pulling more work now
                // would only make the pulled tasks wait longer.
                if ((prev.scx.flags & SCX_TASK_QUEUED) != 0 && prev.scx.slice != 0 && !scxOpsBypassing()) {
                    prev.scx.flags |= SCX_TASK_BAL_KEEP;
                    return true;
                }
            }
            // something is queued locally already: done
            if (sx.localDsq.readOnceNr() != 0) {
                return true;
            }
            if (dispatch.consumeDispatchQ(rq, globalDsq)) {
                return true;
            }
            if (!ScxKeys.HAS_DISPATCH.enabled() || scxOpsBypassing() || !scxRqOnline(rq)) {
                return false;
            }
            int nrLoops = SCX_DSP_MAX_LOOPS;
            do {
                sx.dspNrTasks = 0;
                callDispatch(ctx, rq.cpu, prevOnScx ? prev : null);
                dispatch.flushDispatchBuf(ctx, rq);
                if (sx.localDsq.readOnceNr() != 0) {
                    return true;
                }
                if (dispatch.consumeDispatchQ(rq, globalDsq)) {
                    return true;
                }
                // A scheduler that keeps handing over tasks this CPU cannot take would spin
                // here forever: stop after a bounded number of rounds and self-kick to retry.
                if (--nrLoops == 0) {
                    kick.kickCpu(ctx, rq.cpu, 0);
                    break;
                }
            } while (sx.dspNrTasks != 0);
            return false;
        } finally {
            sx.flags &= ~SCX_RQ_BALANCING;
        }
    }

    /**
     * The start of balance_scx() [v7] / balance_one() [6.12]: a higher class had this CPU since
     * the last release, so tell the BPF scheduler the CPU is back under its control (the
     * counterpart of ops.cpu_release()). Rq lock held.
     */
    void cpuAcquireIfReleased(ExecCtx ctx, Rq rq) {
        Rq.ScxRq sx = rq.scx;
        if (cpuPreemptEnabled() && sx.lpCpuReleased()) {
            if (ScxKeys.HAS_CPU_ACQUIRE.enabled()) {
                callCpuAcquire(ctx, rq.cpu);
            }
            sx.writeOnceCpuReleased(false);
            sx.lockDroppedSinceAcquire = false;
            RacePoint.at(RacePoint.CPU_RELEASED);
            sx.releaseWindows++;
            kernel.tracer.cpu_acquire(rq.cpu, kernel.now());
        }
    }

    /**
     * put_prev_task_scx()'s first steps for a still-runnable (QUEUED) p, shared by the 6.12 port:
     * ops.stopping(p, true), then p goes back on the runnable list.
     */
    void stoppingRunnable(ExecCtx ctx, Rq rq, Task p) {
        if (ScxKeys.HAS_STOPPING.enabled()) {
            callTaskOp(ctx, ScxOp.STOPPING, p, 1);
        }
        setTaskRunnable(rq, p);
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
            // p was chosen (core scheduling) while the BPF scheduler still holds it: take it
            // back through ops_dequeue() so the scheduler learns about it.
            opsDequeue(ctx, p, SCX_DEQ_CORE_SCHED_EXEC);
            dispatch.dispatchDequeue(rq, p);
        }
        p.execStart = kernel.now();
        // a task that is not QUEUED got its op from dequeue_task_scx() already
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
        // a task that is not QUEUED got its op from dequeue_task_scx() already
        if (ScxKeys.HAS_STOPPING.enabled() && (s.flags & SCX_TASK_QUEUED) != 0) {
            callTaskOp(ctx, ScxOp.STOPPING, p, 1);
        }
        // balance_scx() may have decided that p should keep running.
        if ((s.flags & SCX_TASK_BAL_KEEP) != 0) {
            s.flags &= ~SCX_TASK_BAL_KEEP;
            setTaskRunnable(rq, p);
            dispatch.dispatchEnqueue(rq.scx.localDsq, p, SCX_ENQ_HEAD);
            return;
        }
        if ((s.flags & SCX_TASK_QUEUED) != 0) {
            setTaskRunnable(rq, p);
            // Slice left but no keep tag from balance_scx(): a class above ext took the CPU.
            // p goes back to the front of this CPU's local DSQ.
            if (s.slice != 0 && !scxOpsBypassing()) {
                dispatch.dispatchEnqueue(rq.scx.localDsq, p, SCX_ENQ_HEAD);
                return;
            }
            // An empty local DSQ: flag SCX_ENQ_LAST so ops.enqueue() knows nothing else is
            // waiting for this CPU.
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
        // Bypass mode ignores the scheduler's slices: reschedule on every tick.
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
        // Release; the acquire it pairs with is in a kicker's SCX_KICK_WAIT spin
        // (kick_cpus_irq_workfn()), which waits for this CPU to go through a pick.
        sx.bumpPntSeq();
        RacePoint.at(RacePoint.PNT_SEQ);
        if (active.above(SchedClass.EXT)) {
            dispatch.strandLocalDsq(rq);
        }
        if (!cpuPreemptEnabled()) {
            return;
        }
        // ops.cpu_release() means "a class above you has this CPU now"; staying on ext or
        // going idle is not that, so nothing is sent.
        if (!active.above(SchedClass.EXT)) {
            return;
        }
        // A higher class won the pick: release, unless this window was already reported
        // (one release per stretch between losing the CPU and getting it back).
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
            dispatch.strandLocalDsq(rq);
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
            // Release; the acquire it pairs with is in a kicker's SCX_KICK_WAIT spin
            // (kick_cpus_irq_workfn()), which waits for this CPU to go through a pick.
            sx.bumpPntSeq();
            RacePoint.at(RacePoint.PNT_SEQ);
        }
        if (!cpuPreemptEnabled()) {
            return;
        }
        // ops.cpu_release() means "a class above you has this CPU now": a next task of ext
        // itself or of the idle class is not that, so nothing is sent.
        if (!nextClass.above(SchedClass.EXT)) {
            return;
        }
        // A higher class takes over: release, unless this window was already reported (one
        // release per stretch between losing the CPU and getting it back).
        releaseOnce(rq, nextClass, next);
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
                ret = ops.initTask(p, new InitTaskArgs(fork, cgroup.initTaskCgroup(p)));
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
    // =============================================================================================
    // The slow-path ops (cgroup, hotplug, core_sched_before): one SCX_CALL_OP() wrapper
    // =============================================================================================

    /** The call an {@link #callSlowOp} wraps. */
    @FunctionalInterface
    interface OpCall {
        long call(SchedExtOps ops);
    }

    /**
     * SCX_CALL_OP() / SCX_CALL_OP_RET() / SCX_CALL_OP_TASK() for ops off the hot paths: counts the
     * call, sets the kf mask and the op's argument tasks ({@code t0}, {@code t1}: may be null) for
     * the kfunc checks, and ejects the scheduler if the op throws (returning {@code onThrow}).
     */
    long callSlowOp(ScxOp op, int mask, Task t0, Task t1, long onThrow, OpCall call) {
        ExecCtx ctx = ExecCtx.current(kernel);
        enterOp(ctx, op, mask);
        Task s0 = ctx.kfTask0;
        Task s1 = ctx.kfTask1;
        if (t0 != null) {
            ctx.kfTask0 = t0;
            ctx.kfTask1 = t1;
        }
        try {
            return call.call(ops);
        } catch (Throwable t) {
            opThrew(op, t);
            return onThrow;
        } finally {
            ctx.kfTask0 = s0;
            ctx.kfTask1 = s1;
            exitOp(ctx, mask);
        }
    }

    /**
     * The kf mask of the ops 6.12 calls with SCX_KF_UNLOCKED (cgroup, hotplug); v7 called the
     * hotplug ops with SCX_KF_SLEEPABLE.
     */
    int unlockedMask() {
        return kernel.profile() == CoreProfile.V7 ? SCX_KF_SLEEPABLE : SCX_KF_UNLOCKED;
    }

    /**
     * ext.c: scx_prio_less(): core scheduling's ordering of two ext tasks on one core. The
     * scheduler's core_sched_before decides unless absent or bypassing; else the earlier
     * {@code core_sched_at} stamp wins. The emulator has no core scheduling: this is the entry
     * point such a caller (and the tests) use. Both tasks' rq locks held (one core).
     */
    boolean scxPrioLess(Task a, Task b, boolean inFi) {
        if (ScxKeys.HAS_CORE_SCHED_BEFORE.enabled() && !scxOpsBypassing()) {
            return callSlowOp(ScxOp.CORE_SCHED_BEFORE, SCX_KF_REST, a, b, 0,
                    o -> o.coreSchedBefore(a, b) ? 1 : 0) != 0;
        }
        return a.scx.coreSchedAt - b.scx.coreSchedAt > 0;
    }
    /** ext.c: scx_check_setscheduler(); the task's rq lock held. */
    int scxCheckSetscheduler(Task p, int policy) {
        if (scxEnabled() && p.scx.disallow && p.policy != policy && policy == Task.SCHED_EXT) {
            return -EACCES;
        }
        return 0;
    }

    /** ext.c: reweight_task_scx(): the task's rq lock held, the task in the ext class. */
    void reweightTaskScx(Rq rq, Task p) {
        rq.assertHeld();
        int w = Task.scxWeight(p.nice, p.policy);
        p.scx.weight = w;
        if (ScxKeys.HAS_SET_WEIGHT.enabled()) {
            callTaskOp(ExecCtx.current(kernel), ScxOp.SET_WEIGHT, p, w);
        }
    }
}
