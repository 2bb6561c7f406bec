// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.scxemu.kernel.ScxConsts.*;

/**
 * The kfunc bodies behind {@code org.scxemu.scx.Scx}: each finds the calling thread's context,
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
        if (CoreProfile.CORE_6_12.enabled()) {
            return selectCpuDfl612(ctx, ext, p, prevCpu, wakeFlags, isIdle);
        }
        if (!ext.scxKfAllowedOnArgTasks(ctx, SCX_KF_SELECT_CPU, p)) {
            if (isIdle != null && isIdle.length > 0) {
                isIdle[0] = false;
            }
            return prevCpu;
        }
        int cpu = ext.idle.scxSelectCpuDfl(ctx, p, prevCpu, wakeFlags, found);
        if (isIdle != null && isIdle.length > 0) {
            isIdle[0] = found[0];
        }
        return cpu;
    }

    /**
     * ext.c: scx_bpf_select_cpu_dfl() (6.12): prev_cpu checked first, then the built-in idle
     * check (here, not in scx_select_cpu_dfl()), then the select_cpu context.
     */
    private static int selectCpuDfl612(ExecCtx ctx, Ext ext, Task p, int prevCpu, long wakeFlags,
            boolean[] isIdle) {
        boolean idle = false;
        int cpu = prevCpu;
        if (ext.opsCpuValid(prevCpu, null)) {
            if (!ScxKeys.SCX_BUILTIN_IDLE_ENABLED.enabled()) {
                ext.scxOpsError("built-in idle tracking is disabled");
            } else if (ext.scxKfAllowed(ctx, SCX_KF_SELECT_CPU)) {
                boolean[] found = ctx.found;
                cpu = ext.idle.scxSelectCpuDfl(ctx, p, prevCpu, wakeFlags, found);
                idle = found[0];
            }
        }
        if (isIdle != null && isIdle.length > 0) {
            isIdle[0] = idle;
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
        dispatchBody(enter(Kfunc.DISPATCH), p, dsqId, slice, enqFlags);
    }

    /** scx_bpf_dsq_insert(): 6.13's name of scx_bpf_dispatch(), counted as itself. */
    public static void dsqInsert(Task p, long dsqId, long slice, long enqFlags) {
        ExecCtx ctx = KfuncsDsq.enterGated(Kfunc.DSQ_INSERT);
        if (ctx != null) {
            dispatchBody(ctx, p, dsqId, slice, enqFlags);
        }
    }

    private static void dispatchBody(ExecCtx ctx, Task p, long dsqId, long slice, long enqFlags) {
        if (!dispatchPreamble(ctx, p, enqFlags)) {
            return;
        }
        if (slice != 0) {
            p.scx.slice = slice;
        } else {
            p.scx.slice = p.scx.slice != 0 ? p.scx.slice : 1;
        }
        ctx.kernel.ext.dispatch.scxDispatchCommit(ctx, p, dsqId, enqFlags);
    }

    /** ext.c: scx_bpf_dispatch_vtime() */
    public static void dispatchVtime(Task p, long dsqId, long slice, long vtime, long enqFlags) {
        dispatchVtimeBody(enter(Kfunc.DISPATCH_VTIME), p, dsqId, slice, vtime, enqFlags);
    }

    /** scx_bpf_dsq_insert_vtime(): 6.13's name of scx_bpf_dispatch_vtime(), counted as itself. */
    public static void dsqInsertVtime(Task p, long dsqId, long slice, long vtime, long enqFlags) {
        ExecCtx ctx = KfuncsDsq.enterGated(Kfunc.DSQ_INSERT_VTIME);
        if (ctx != null) {
            dispatchVtimeBody(ctx, p, dsqId, slice, vtime, enqFlags);
        }
    }

    private static void dispatchVtimeBody(ExecCtx ctx, Task p, long dsqId, long slice, long vtime, long enqFlags) {
        if (!dispatchPreamble(ctx, p, enqFlags)) {
            return;
        }
        if (slice != 0) {
            p.scx.slice = slice;
        } else {
            p.scx.slice = p.scx.slice != 0 ? p.scx.slice : 1;
        }
        p.scx.dsqVtime = vtime;
        ctx.kernel.ext.dispatch.scxDispatchCommit(ctx, p, dsqId, enqFlags | SCX_ENQ_DSQ_PRIQ);
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
        return consumeBody(enter(Kfunc.CONSUME), dsqId);
    }

    /** scx_bpf_dsq_move_to_local(): 6.13's name of scx_bpf_consume(), counted as itself. */
    public static boolean dsqMoveToLocal(long dsqId) {
        ExecCtx ctx = KfuncsDsq.enterGated(Kfunc.DSQ_MOVE_TO_LOCAL);
        return ctx != null && consumeBody(ctx, dsqId);
    }

    private static boolean consumeBody(ExecCtx ctx, long dsqId) {
        Ext ext = ctx.kernel.ext;
        if (!ext.scxKfAllowed(ctx, SCX_KF_DISPATCH)) {
            return false;
        }
        return ext.dispatch.consume(ctx, dsqId);
    }

    /** ext.c: scx_bpf_reenqueue_local() */
    public static int reenqueueLocal() {
        ExecCtx ctx = enter(Kfunc.REENQUEUE_LOCAL);
        return ctx.kernel.ext.dispatch.reenqueueLocal(ctx);
    }

    /** ext.c: scx_bpf_kick_cpu() */
    public static void kickCpu(int cpu, long flags) {
        ExecCtx ctx = enter(Kfunc.KICK_CPU);
        ctx.kernel.ext.kick.kickCpu(ctx, cpu, flags);
    }

    /** ext.c: scx_bpf_dsq_nr_queued() */
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
            // [v7] also counted the global DSQ; 6.12 knows user DSQs only here
            Dsq dsq = dsqId == SCX_DSQ_GLOBAL && ctx.kernel.profile() == CoreProfile.V7 ? ext.globalDsq
                    : ext.dispatch.findUserDsq(dsqId);
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
        Dsq dsq = ext.dispatch.findUserDsq(dsqId);
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
            // An invalid id marks the DSQ dead: dispatch_enqueue() refuses it from now on.
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
        return ext.idle.idleCpumask();
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
            return ext.idle.testAndClearCpuIdle(cpu);
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
        return ext.idle.scxPickIdleCpu(ctx, allowed, flags);
    }

    /** ext.c: scx_bpf_pick_any_cpu() */
    public static int pickAnyCpu(CpuMask allowed, long flags) {
        ExecCtx ctx = enter(Kfunc.PICK_ANY_CPU);
        Ext ext = ctx.kernel.ext;
        if (ScxKeys.SCX_BUILTIN_IDLE_ENABLED.enabled()) {
            int cpu = ext.idle.scxPickIdleCpu(ctx, allowed, flags);
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

    /**
     * ext.c: scx_bpf_cpu_rq(): the rq of {@code cpu}, for reading (any context, as in 6.12's
     * scx_kfunc_ids_any); a CPU out of range ejects the scheduler with ops_cpu_valid()'s message
     * and returns null.
     */
    public static Rq cpuRq(int cpu) {
        ExecCtx ctx = KfuncsDsq.enterGated(Kfunc.CPU_RQ);
        if (ctx == null || !ctx.kernel.ext.opsCpuValid(cpu, null)) {
            return null;
        }
        return ctx.kernel.rqs[cpu];
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

    /**
     * bpf_get_smp_processor_id(): the CPU the calling context runs on. A thread that is no CPU
     * (the harness forking a task, a test) stands in for the CPU of the task it operates on, else
     * CPU 0: the kernel never answers -1.
     */
    public static int smpProcessorId() {
        ExecCtx ctx = ExecCtx.currentAny();
        if (ctx.cpu >= 0) {
            return ctx.cpu;
        }
        Task p = ctx.kfTask0;
        return p != null ? p.readOnceCpu() : 0;
    }

    /**
     * bpf_get_prandom_u32(): a pseudo-random u32 from the calling thread's stream, seeded from the
     * kernel's seed (the run's --seed) and the CPU, so a controlled run repeats it.
     */
    public static int prandomU32() {
        ExecCtx ctx = ExecCtx.currentAny();
        java.util.SplittableRandom r = ctx.prandom;
        if (r == null) {
            r = new java.util.SplittableRandom(ctx.kernel.prandomSeed() * 0x9E3779B97F4A7C15L + ctx.cpu + 1);
            ctx.prandom = r;
        }
        return r.nextInt();
    }
}
