// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.scxemu.scx.Scx.*;

/**
 * The kfunc bodies behind {@link org.scxemu.scx.Scx}: each finds the calling thread's context,
 * counts the call, checks the kf_mask as the kernel does and calls into {@link Ext}.
 */
public final class Kfuncs {
    private Kfuncs() {
    }

    private static ExecCtx enter(Kfunc k) {
        ExecCtx ctx = ExecCtx.currentAny();
        ctx.kfuncCalls[k.ordinal()]++;
        return ctx;
    }

    /** ext.c: scx_bpf_select_cpu_dfl() */
    public static int selectCpuDfl(Task p, int prevCpu, long wakeFlags, boolean[] isIdle) {
        ExecCtx ctx = enter(Kfunc.SELECT_CPU_DFL);
        Ext ext = ctx.kernel.ext;
        boolean[] found = ctx.found;
        if (!ext.scxKfAllowedOnArgTasks(ctx, SCX_KF_SELECT_CPU, p)) {
            if (isIdle != null && isIdle.length > 0) {
                isIdle[0] = false;
            }
            return prevCpu;
        }
        int cpu = ext.scxSelectCpuDfl(ctx, p, prevCpu, wakeFlags, found);
        if (isIdle != null && isIdle.length > 0) {
            isIdle[0] = found[0];
        }
        return cpu;
    }

    /** ext.c: scx_dispatch_preamble() */
    private static boolean dispatchPreamble(ExecCtx ctx, Task p, long enqFlags) {
        Ext ext = ctx.kernel.ext;
        if (!ext.scxKfAllowed(ctx, SCX_KF_ENQUEUE | SCX_KF_DISPATCH)) {
            return false;
        }
        if (p == null) {
            ext.scxOpsError("called with NULL task");
            return false;
        }
        if ((enqFlags & __SCX_ENQ_INTERNAL_MASK) != 0) {
            ext.scxOpsError("invalid enq_flags 0x%x", enqFlags);
            return false;
        }
        return true;
    }

    /** ext.c: scx_bpf_dispatch() */
    public static void dispatch(Task p, long dsqId, long slice, long enqFlags) {
        ExecCtx ctx = enter(Kfunc.DISPATCH);
        if (!dispatchPreamble(ctx, p, enqFlags)) {
            return;
        }
        if (slice != 0) {
            p.scx.slice = slice;
        } else {
            p.scx.slice = p.scx.slice != 0 ? p.scx.slice : 1;
        }
        ctx.kernel.ext.scxDispatchCommit(ctx, p, dsqId, enqFlags);
    }

    /** ext.c: scx_bpf_dispatch_vtime() */
    public static void dispatchVtime(Task p, long dsqId, long slice, long vtime, long enqFlags) {
        ExecCtx ctx = enter(Kfunc.DISPATCH_VTIME);
        if (!dispatchPreamble(ctx, p, enqFlags)) {
            return;
        }
        if (slice != 0) {
            p.scx.slice = slice;
        } else {
            p.scx.slice = p.scx.slice != 0 ? p.scx.slice : 1;
        }
        p.scx.dsqVtime = vtime;
        ctx.kernel.ext.scxDispatchCommit(ctx, p, dsqId, enqFlags | SCX_ENQ_DSQ_PRIQ);
    }

    /** ext.c: scx_bpf_dispatch_nr_slots() */
    public static int dispatchNrSlots() {
        ExecCtx ctx = enter(Kfunc.DISPATCH_NR_SLOTS);
        Ext ext = ctx.kernel.ext;
        if (!ext.scxKfAllowed(ctx, SCX_KF_DISPATCH)) {
            return 0;
        }
        return ext.dispatchMaxBatch - ctx.rq.scx.dspCursor;
    }

    /** ext.c: scx_bpf_dispatch_cancel() */
    public static void dispatchCancel() {
        ExecCtx ctx = enter(Kfunc.DISPATCH_CANCEL);
        Ext ext = ctx.kernel.ext;
        if (!ext.scxKfAllowed(ctx, SCX_KF_DISPATCH)) {
            return;
        }
        if (ctx.rq.scx.dspCursor > 0) {
            ctx.rq.scx.dspCursor--;
        } else {
            ext.scxOpsError("dispatch buffer underflow");
        }
    }

    /** ext.c: scx_bpf_consume() */
    public static boolean consume(long dsqId) {
        ExecCtx ctx = enter(Kfunc.CONSUME);
        Ext ext = ctx.kernel.ext;
        if (!ext.scxKfAllowed(ctx, SCX_KF_DISPATCH)) {
            return false;
        }
        return ext.consume(ctx, dsqId);
    }

    /** ext.c: scx_bpf_reenqueue_local() */
    public static int reenqueueLocal() {
        ExecCtx ctx = enter(Kfunc.REENQUEUE_LOCAL);
        return ctx.kernel.ext.reenqueueLocal(ctx);
    }

    /** ext.c: scx_bpf_kick_cpu() */
    public static void kickCpu(int cpu, long flags) {
        ExecCtx ctx = enter(Kfunc.KICK_CPU);
        ctx.kernel.ext.kickCpu(ctx, cpu, flags);
    }

    /** ext.c: scx_bpf_dsq_nr_queued() [v7] */
    public static int dsqNrQueued(long dsqId) {
        ExecCtx ctx = enter(Kfunc.DSQ_NR_QUEUED);
        Ext ext = ctx.kernel.ext;
        if (dsqId == SCX_DSQ_LOCAL) {
            if (ctx.rq != null) {
                return ctx.rq.scx.localDsq.readOnceNr();
            }
        } else if ((dsqId & SCX_DSQ_LOCAL_ON) == SCX_DSQ_LOCAL_ON) {
            int cpu = (int) (dsqId & SCX_DSQ_LOCAL_CPU_MASK);
            if (ext.opsCpuValid(cpu, null)) {
                return ctx.kernel.rqs[cpu].scx.localDsq.readOnceNr();
            }
        } else {
            Dsq dsq = dsqId == SCX_DSQ_GLOBAL ? ext.globalDsq : ext.findUserDsq(dsqId);
            if (dsq != null) {
                return dsq.readOnceNr();
            }
        }
        return -ENOENT;
    }

    /** ext.c: scx_bpf_create_dsq() [v7]: sleepable context only. */
    public static int createDsq(long dsqId, int node) {
        ExecCtx ctx = enter(Kfunc.CREATE_DSQ);
        Ext ext = ctx.kernel.ext;
        if (!ext.scxKfAllowed(ctx, SCX_KF_SLEEPABLE)) {
            return -EINVAL;
        }
        if (node >= 1 || (node < 0 && node != -1)) {
            return -EINVAL;
        }
        if ((dsqId & SCX_DSQ_FLAG_BUILTIN) != 0) {
            return -EINVAL;
        }
        Dsq dsq = new Dsq(dsqId, null);
        return ext.dsqHash.putIfAbsent(dsqId, dsq) == null ? 0 : -EEXIST;
    }

    /** ext.c: scx_bpf_destroy_dsq() / destroy_dsq() */
    public static void destroyDsq(long dsqId) {
        ExecCtx ctx = enter(Kfunc.DESTROY_DSQ);
        Ext ext = ctx.kernel.ext;
        Dsq dsq = ext.findUserDsq(dsqId);
        if (dsq == null) {
            return;
        }
        dsq.lock.lock();
        try {
            if (dsq.lpNr() != 0) {
                ext.scxOpsError("attempting to destroy in-use dsq 0x%016x (nr=%u)", dsq.id(), dsq.lpNr());
                return;
            }
            if (!ext.dsqHash.remove(dsqId, dsq)) {
                return;
            }
            // Mark dead by invalidating ->id to prevent dispatch_enqueue() from queueing more.
            dsq.setId(SCX_DSQ_INVALID);
        } finally {
            dsq.lock.unlock();
        }
    }

    /** scx_bpf_exit_bstr() */
    public static void exit(long code, String fmt, Object... args) {
        ExecCtx ctx = enter(Kfunc.EXIT);
        ctx.kernel.ext.scxOpsExitKind(SCX_EXIT_UNREG_BPF, code, null, fmt, args);
    }

    /** scx_bpf_error_bstr() */
    public static void error(String fmt, Object... args) {
        ExecCtx ctx = enter(Kfunc.ERROR);
        ctx.kernel.ext.scxOpsExitKind(SCX_EXIT_ERROR_BPF, 0, null, fmt, args);
    }

    /** scx_ops_error(): an error the emulator found in the scheduler itself, SCX_EXIT_ERROR. */
    public static void opsError(String fmt, Object... args) {
        ExecCtx.currentAny().kernel.ext.scxOpsError(fmt, args);
    }

    /** scx_bpf_dump_bstr() */
    public static void dump(String fmt, Object... args) {
        ExecCtx ctx = enter(Kfunc.DUMP);
        if (ctx.dumpBuf == null) {
            ctx.kernel.ext.scxOpsError("scx_bpf_dump() must only be called from ops.dump() and friends");
            return;
        }
        // Pieces accumulate into one line until a '\n', as the kernel's dump line buffer does;
        // ExtDump ends a trailing partial line when the op returns.
        ctx.dumpBuf.append(CFormat.format(fmt, args));
    }

    public static int nrCpuIds() {
        ExecCtx ctx = enter(Kfunc.NR_CPU_IDS);
        return ctx.kernel.nrCpus;
    }

    /** ext.c: scx_bpf_get_idle_cpumask() */
    public static CpuMask getIdleCpumask() {
        ExecCtx ctx = enter(Kfunc.GET_IDLE_CPUMASK);
        Ext ext = ctx.kernel.ext;
        if (!ScxKeys.SCX_BUILTIN_IDLE_ENABLED.enabled()) {
            ext.scxOpsError("built-in idle tracking is disabled");
            return CpuMask.of();
        }
        return ext.idleCpumask();
    }

    /** ext.c: scx_bpf_test_and_clear_cpu_idle() */
    public static boolean testAndClearCpuIdle(int cpu) {
        ExecCtx ctx = enter(Kfunc.TEST_AND_CLEAR_CPU_IDLE);
        Ext ext = ctx.kernel.ext;
        if (!ScxKeys.SCX_BUILTIN_IDLE_ENABLED.enabled()) {
            ext.scxOpsError("built-in idle tracking is disabled");
            return false;
        }
        if (ext.opsCpuValid(cpu, null)) {
            return ext.testAndClearCpuIdle(cpu);
        }
        return false;
    }

    /** ext.c: scx_bpf_pick_idle_cpu() */
    public static int pickIdleCpu(CpuMask allowed, long flags) {
        ExecCtx ctx = enter(Kfunc.PICK_IDLE_CPU);
        Ext ext = ctx.kernel.ext;
        if (!ScxKeys.SCX_BUILTIN_IDLE_ENABLED.enabled()) {
            ext.scxOpsError("built-in idle tracking is disabled");
            return -EBUSY;
        }
        return ext.scxPickIdleCpu(ctx, allowed, flags);
    }

    /** ext.c: scx_bpf_pick_any_cpu() */
    public static int pickAnyCpu(CpuMask allowed, long flags) {
        ExecCtx ctx = enter(Kfunc.PICK_ANY_CPU);
        Ext ext = ctx.kernel.ext;
        if (ScxKeys.SCX_BUILTIN_IDLE_ENABLED.enabled()) {
            int cpu = ext.scxPickIdleCpu(ctx, allowed, flags);
            if (cpu >= 0) {
                return cpu;
            }
        }
        int n = allowed.weight();
        if (n == 0) {
            return -EBUSY;
        }
        int start = Math.floorMod(ctx.cpu + 1, ctx.kernel.nrCpus);
        int cpu = allowed.next(start);
        if (cpu < 0 || cpu >= ctx.kernel.nrCpus) {
            cpu = allowed.first();
        }
        return cpu >= 0 && cpu < ctx.kernel.nrCpus ? cpu : -EBUSY;
    }

    /** ext.c: scx_bpf_task_running() */
    public static boolean taskRunning(Task p) {
        ExecCtx ctx = enter(Kfunc.TASK_RUNNING);
        return ctx.kernel.rqs[p.readOnceCpu()].curr == p;
    }

    /** ext.c: scx_bpf_task_cpu() */
    public static int taskCpu(Task p) {
        enter(Kfunc.TASK_CPU);
        return p.readOnceCpu();
    }

    /** bpf_task_from_pid(): the task with this pid, or null. */
    public static Task taskFromPid(int pid) {
        return ExecCtx.currentAny().kernel.findTaskByPid(pid);
    }

    /**
     * bpf_timer_start(): arms {@code t} to fire {@code nsecs} from now on the calling CPU (a BPF
     * timer started with BPF_F_TIMER_CPU_PIN stays there); called off-CPU (e.g. from ops.init()
     * on the loading thread), on CPU 0, where the loader runs. The callback runs on that CPU's
     * thread with no rq lock held and kf_mask 0, like a BPF timer callback in softirq context.
     */
    public static int timerStart(Timer t, long nsecs) {
        ExecCtx ctx = ExecCtx.currentAny();
        Kernel k = ctx.kernel;
        Rq rq = ctx.rq != null ? ctx.rq : k.rqs[0];
        k.ext.trackTimer(t);
        rq.timers.arm(t, k.now() + Math.max(0, nsecs));
        return 0;
    }

    /** bpf_timer_cancel() */
    public static int timerCancel(Timer t) {
        TimerQueue q = t.queue;
        return q != null && q.cancel(t) ? 1 : 0;
    }

    public static long ktimeGetNs() {
        return ExecCtx.currentAny().kernel.now();
    }

    public static int smpProcessorId() {
        return ExecCtx.currentAny().cpu;
    }
}
