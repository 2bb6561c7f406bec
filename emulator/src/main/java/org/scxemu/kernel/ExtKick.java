// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.scxemu.kernel.ScxConsts.*;

/**
 * ext.c's CPU kicks: scx_bpf_kick_cpu()'s bookkeeping, the irq work that sends them
 * (kick_cpus_irq_workfn(), kick_one_cpu(), kick_one_cpu_if_idle()) and the SCX_KICK_WAIT spin on
 * the target's {@code pnt_seq}.
 *
 * <p>State: none of its own; the kick masks are the kicking CPU's {@link ExecCtx} (owned by its
 * thread), the target's state is read under the target's rq lock, and {@code pnt_seq} with the
 * acquire named in {@link #pollKickWait}.
 */
final class ExtKick {
    private final Ext ext;
    private final Kernel kernel;
    private final Rq[] rqs;

    ExtKick(Ext ext) {
        this.ext = ext;
        this.kernel = ext.kernel;
        this.rqs = ext.kernel.rqs;
    }

    /** ext.c: can_skip_idle_kick() */
    private static boolean canSkipIdleKick(Rq rq) {
        return rq.curr != rq.idle && (rq.scx.flags & SCX_RQ_BALANCING) == 0;
    }

    /**
     * ext.c: scx_bpf_kick_cpu(): records the kick in this CPU's masks and queues the irq work; the
     * kick itself happens after the current op returns ({@link #kickCpusIrqWorkfn}).
     */
    void kickCpu(ExecCtx ctx, int cpu, long flags) {
        if (!ext.opsCpuValid(cpu, null)) {
            return;
        }
        // Bypass (e.g. around suspend) may run with interrupts unavailable: no kicks then.
        if (ext.scxOpsBypassing()) {
            return;
        }
        if ((flags & SCX_KICK_IDLE) != 0) {
            Rq target = rqs[cpu];
            if ((flags & (SCX_KICK_PREEMPT | SCX_KICK_WAIT)) != 0) {
                ext.scxOpsError("PREEMPT/WAIT cannot be used with SCX_KICK_IDLE");
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
            // A CPU going offline may need its own kick to get anywhere, so self-kicks pass.
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
     * acquire pairs with the release in {@link Ext#scxNextTaskPicked}: once the new value is seen,
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
}
