// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.scxemu.kernel.ScxConsts.*;


/**
 * The CPU-side kfuncs of 6.12 beyond the seed's: cpuperf ({@code scx_bpf_cpuperf_cap/cur/set}),
 * the global cpumasks ({@code scx_bpf_get_possible_cpumask}, {@code _online_cpumask},
 * {@code _idle_smtmask} and their puts) and {@code scx_bpf_task_cgroup()}. Each counts its call;
 * the 6.12 ones are refused under v7 (see {@link KfuncsDsq#enterGated}).
 *
 * <p>The emulated machine is symmetric and has no frequency scaling: every CPU's capacity and
 * current performance level are {@code SCX_CPUPERF_ONE}, as on a kernel without
 * arch_scale_cpu_capacity()/arch_scale_freq_capacity() support; the target a scheduler sets is
 * kept in {@code rq->scx.cpuperf_target} for whoever reads it. There is no SMT either, so the idle
 * SMT mask is the idle CPU mask, as the kernel returns when SMT is off.
 */
public final class KfuncsCpu {
    private KfuncsCpu() {
    }

    private static ExecCtx enter(Kfunc k) {
        ExecCtx ctx = ExecCtx.currentAny();
        ctx.kfuncCalls[k.ordinal()]++;
        return ctx;
    }

    /** ext.c: scx_bpf_cpuperf_cap() */
    public static int cpuperfCap(int cpu) {
        ExecCtx ctx = KfuncsDsq.enterGated(Kfunc.CPUPERF_CAP);
        if (ctx == null || !ctx.kernel.ext.opsCpuValid(cpu, null)) {
            return SCX_CPUPERF_ONE;
        }
        // arch_scale_cpu_capacity(): every CPU of the emulated machine is a full-size one
        return SCX_CPUPERF_ONE;
    }

    /** ext.c: scx_bpf_cpuperf_cur() */
    public static int cpuperfCur(int cpu) {
        ExecCtx ctx = KfuncsDsq.enterGated(Kfunc.CPUPERF_CUR);
        if (ctx == null || !ctx.kernel.ext.opsCpuValid(cpu, null)) {
            return SCX_CPUPERF_ONE;
        }
        // arch_scale_freq_capacity(): no frequency scaling, so always the full level
        return SCX_CPUPERF_ONE;
    }

    /** ext.c: scx_bpf_cpuperf_set(); {@code perf} is a u32. */
    public static void cpuperfSet(int cpu, int perf) {
        ExecCtx ctx = KfuncsDsq.enterGated(Kfunc.CPUPERF_SET);
        if (ctx == null) {
            return;
        }
        Ext ext = ctx.kernel.ext;
        if (Integer.compareUnsigned(perf, SCX_CPUPERF_ONE) > 0) {
            ext.scxOpsError("Invalid cpuperf target %u for CPU %d", perf, cpu);
            return;
        }
        if (ext.opsCpuValid(cpu, null)) {
            ctx.kernel.rqs[cpu].scx.cpuperfTarget = perf;
        }
    }

    /** ext.c: scx_bpf_get_possible_cpumask(): every CPU of the machine. */
    public static CpuMask getPossibleCpumask() {
        ExecCtx ctx = enter(Kfunc.GET_POSSIBLE_CPUMASK);
        return CpuMask.all(ctx.kernel.nrCpus);
    }

    /** ext.c: scx_bpf_get_online_cpumask(): the CPUs online now (cpu_online_mask). */
    public static CpuMask getOnlineCpumask() {
        ExecCtx ctx = enter(Kfunc.GET_ONLINE_CPUMASK);
        Rq[] rqs = ctx.kernel.rqs;
        int[] cpus = new int[rqs.length];
        int n = 0;
        for (Rq rq : rqs) {
            if (rq.online) {
                cpus[n++] = rq.cpu;
            }
        }
        return CpuMask.of(java.util.Arrays.copyOf(cpus, n));
    }

    /** ext.c: scx_bpf_put_cpumask(): releases nothing; the masks are snapshots here. */
    public static void putCpumask(CpuMask mask) {
        enter(Kfunc.PUT_CPUMASK);
    }

    /** ext.c: scx_bpf_get_idle_smtmask(): the idle CPU mask, as with SMT off. */
    public static CpuMask getIdleSmtmask() {
        ExecCtx ctx = enter(Kfunc.GET_IDLE_SMTMASK);
        Ext ext = ctx.kernel.ext;
        if (!ScxKeys.SCX_BUILTIN_IDLE_ENABLED.enabled()) {
            ext.scxOpsError("built-in idle tracking is disabled");
            return CpuMask.of();
        }
        return ext.idle.idleCpumask();
    }

    /** ext.c: scx_bpf_put_idle_cpumask(): releases nothing. */
    public static void putIdleCpumask(CpuMask mask) {
        enter(Kfunc.PUT_IDLE_CPUMASK);
    }

    /**
     * ext.c: scx_bpf_task_cgroup(): the cgroup of {@code p}, from an op that holds the rq lock and
     * operates on {@code p}; from anywhere else the scheduler is ejected and the root is returned.
     */
    public static Cgroup taskCgroup(Task p) {
        ExecCtx ctx = KfuncsDsq.enterGated(Kfunc.TASK_CGROUP);
        if (ctx == null) {
            return null;
        }
        Cgroup root = ctx.kernel.cgroups.root();
        if (!ctx.kernel.ext.scxKfAllowedOnArgTasks(ctx, __SCX_KF_RQ_LOCKED, p)) {
            return root;
        }
        return ctx.kernel.cgroups.of(p);
    }
}
