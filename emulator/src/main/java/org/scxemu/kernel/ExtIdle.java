// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.scxemu.kernel.ScxConsts.*;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Built-in idle tracking and the default CPU selection: select_task_rq_scx(),
 * scx_select_cpu_dfl(), test_and_clear_cpu_idle(), scx_pick_idle_cpu(), reset_idle_masks() and
 * scx_update_idle(). They are in ext.c in 6.12 (the markers say so); 6.15 moved them to
 * ext_idle.c, which is the seam this class follows.
 *
 * <p>State: {@code idleCpu}, one bit per CPU in an atomic bitmap; set and cleared with CAS by any
 * thread and read without locks, as the kernel's idle cpumask: a hint, claimed only by a
 * successful test-and-clear. {@code distributeRotor} is a racy start point for the search
 * (cpumask_any_and_distribute()'s per-CPU cursor), any value is correct.
 */
final class ExtIdle {
    private final Ext ext;
    private final Kernel kernel;
    private final int nrCpus;
    final AtomicLongArray idleCpu;

    ExtIdle(Ext ext) {
        this.ext = ext;
        this.kernel = ext.kernel;
        this.nrCpus = ext.kernel.nrCpus;
        this.idleCpu = new AtomicLongArray((nrCpus + 63) >>> 6);
    }

    /** ext.c: select_task_rq_scx() [v7] */
    int selectTaskRqScx(Task p, int prevCpu, int wakeFlags) {
        if ((wakeFlags & Task.WF_EXEC) != 0) {
            return prevCpu;
        }
        ExecCtx ctx = ExecCtx.current(kernel);
        if (ScxKeys.HAS_SELECT_CPU.enabled() && !ext.scxOpsBypassing()) {
            Task savedDdsp = ctx.directDispatchTask;
            boolean savedDone = ctx.directDispatchDone;
            ctx.directDispatchTask = p;
            ctx.directDispatchDone = false;
            int cpu = ext.callSelectCpu(ctx, p, prevCpu, wakeFlags);
            ctx.directDispatchTask = savedDdsp;
            ctx.directDispatchDone = savedDone;
            if (ext.opsCpuValid(cpu, "from ops.select_cpu()")) {
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

    /**
     * ext.c: scx_select_cpu_dfl() [v7]. The built-in idle check is v7's, made by the default
     * selection itself, and not while bypassing: the bypass path sends every wakeup here whatever
     * the scheduler implements, and a scheduler with ops.update_idle() must not be ejected for
     * it. 6.12 moved the check into the kfunc ({@link Kfuncs#selectCpuDfl}).
     */
    int scxSelectCpuDfl(ExecCtx ctx, Task p, int prevCpu, long wakeFlags, boolean[] found) {
        found[0] = false;
        if (!ScxKeys.SCX_BUILTIN_IDLE_ENABLED.enabled() && !CoreProfile.CORE_6_12.enabled()
                && !ext.scxOpsBypassing()) {
            ext.scxOpsError("built-in idle tracking is disabled");
            return prevCpu;
        }
        // A sync wakeup from a CPU with nothing queued locally, while some CPU is idle: p goes
        // to the waker's CPU.
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
        if (!Ext.scxEnabled()) {
            return;
        }
        if (ScxKeys.HAS_UPDATE_IDLE.enabled() && !ext.scxOpsBypassing()) {
            ext.callUpdateIdle(rq.ctx, rq.cpu, idle);
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
}
