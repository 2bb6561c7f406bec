// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.scxemu.kernel.ScxConsts.*;

/**
 * ext.c's class hooks as 6.12 has them, for the profiles built on 6.12 ({@code --kernel 6.12},
 * 6.16, 6.19): balance_one(), pick_task_scx() and put_prev_task_scx(rq, p, next). Core.c's side,
 * the 6.12 __pick_next_task(), is {@link Kernel#pickNextTask612}. v7 keeps {@link Ext#balanceScx},
 * {@link Ext#pickNextTaskScx} and {@link Ext#putPrevTaskScx}; the v7 hot path reaches this class
 * only behind the {@link CoreProfile#CORE_6_12} static key.
 *
 * <p>What differs from v7: the decision to keep prev running is a per-rq flag that the pick reads
 * ({@code SCX_RQ_BAL_KEEP}), and a kept prev is neither put nor set again, so it gets no
 * ops.stopping(), ops.enqueue() or ops.running(); a prev that is still runnable when nothing else
 * is found is kept unless the scheduler asked for {@code SCX_OPS_ENQ_LAST}, in which case it is
 * enqueued with {@code SCX_ENQ_LAST} only once the CPU has picked idle; {@code SCX_RQ_BAL_PENDING}
 * tells the pick that balance_scx() was skipped.
 *
 * <p>{@code SCX_RQ_BAL_PENDING} and {@code SCX_RQ_BAL_KEEP} are bits of {@code rq->scx.flags} in
 * the kernel. The emulator's flags word keeps v7's numbering (where bit 2 is
 * {@code SCX_RQ_CAN_STOP_TICK}), so the two bits live here, one byte per CPU. Guarded by that
 * CPU's rq lock.
 */
final class ExtCore612 {
    /** 6.12's SCX_RQ_BAL_PENDING bit of rq->scx.flags (value 1 << 2 there). */
    static final byte BAL_PENDING = 1;
    /** 6.12's SCX_RQ_BAL_KEEP bit of rq->scx.flags (value 1 << 3 there). */
    static final byte BAL_KEEP = 2;

    private final Ext ext;
    private final Kernel kernel;
    /** Per CPU: BAL_PENDING | BAL_KEEP; guarded by that CPU's rq lock. */
    private final byte[] balFlags;
    /**
     * Per CPU: put_prev_task_scx() did set_tsk_need_resched(next) for the idle task it is making
     * way for; applied once __schedule() has cleared prev's flag. Guarded by that CPU's rq lock.
     */
    private final boolean[] reschedNext;

    ExtCore612(Ext ext, Kernel kernel, int nrCpus) {
        this.ext = ext;
        this.kernel = kernel;
        this.balFlags = new byte[nrCpus];
        this.reschedNext = new boolean[nrCpus];
    }

    /** prev_balance()'s {@code rq->scx.flags |= SCX_RQ_BAL_PENDING}. Rq lock held. */
    void setBalPending(Rq rq) {
        balFlags[rq.cpu] |= BAL_PENDING;
    }

    /** Whether the pick found SCX_RQ_BAL_PENDING still set (for tests). Rq lock held. */
    boolean balPending(Rq rq) {
        return (balFlags[rq.cpu] & BAL_PENDING) != 0;
    }

    /**
     * ext.c: balance_one() (6.12), reached through balance_scx(). Same steps as v7's balance_scx()
     * but the keep decision is a flag on the rq, and a runnable prev with nothing else to run is
     * kept unless SCX_OPS_ENQ_LAST is set (outside bypass).
     */
    boolean balanceOne(Rq rq, Task prev) {
        rq.assertHeld();
        ExecCtx ctx = rq.ctx;
        Rq.ScxRq sx = rq.scx;
        int cpu = rq.cpu;
        boolean prevOnScx = prev.schedClass == SchedClass.EXT;
        boolean prevOnRq = (prev.scx.flags & SCX_TASK_QUEUED) != 0;
        int nrLoops = SCX_DSP_MAX_LOOPS;
        sx.flags |= SCX_RQ_BALANCING;
        balFlags[cpu] = 0;
        try {
            ext.cpuAcquireIfReleased(ctx, rq);
            if (prevOnScx) {
                ext.updateCurrScx(rq);
                if (prevOnRq && prev.scx.slice != 0 && !ext.scxOpsBypassing()) {
                    balFlags[cpu] |= BAL_KEEP;
                    return true;
                }
            }
            if (sx.localDsq.readOnceNr() != 0) {
                return true;
            }
            if (ext.dispatch.consumeDispatchQ(rq, ext.globalDsq)) {
                return true;
            }
            if (ScxKeys.HAS_DISPATCH.enabled() && !ext.scxOpsBypassing() && Ext.scxRqOnline(rq)) {
                do {
                    sx.dspNrTasks = 0;
                    ext.callDispatch(ctx, cpu, prevOnScx ? prev : null);
                    ext.dispatch.flushDispatchBuf(ctx, rq);
                    // ops.dispatch() may have given prev a new slice: then prev goes on
                    if (prevOnRq && prev.scx.slice != 0) {
                        balFlags[cpu] |= BAL_KEEP;
                        return true;
                    }
                    if (sx.localDsq.readOnceNr() != 0) {
                        return true;
                    }
                    if (ext.dispatch.consumeDispatchQ(rq, ext.globalDsq)) {
                        return true;
                    }
                    if (--nrLoops == 0) {
                        ext.kick.kickCpu(ctx, cpu, 0);
                        break;
                    }
                } while (sx.dspNrTasks != 0);
            }
            // no_tasks: a prev that can still run keeps the CPU, unless the scheduler wants to
            // see it again with SCX_ENQ_LAST (then put_prev_task_scx() enqueues it)
            if (prevOnRq && (!ScxKeys.SCX_OPS_ENQ_LAST.enabled() || ext.scxOpsBypassing())) {
                balFlags[cpu] |= BAL_KEEP;
                return true;
            }
            return false;
        } finally {
            sx.flags &= ~SCX_RQ_BALANCING;
        }
    }

    /**
     * ext.c: pick_task_scx() (6.12): prev when balance said keep it (or balance was skipped and
     * prev is still runnable), else the first task of the local DSQ, left on the DSQ for
     * set_next_task_scx() to take off. Does not set the task up to run.
     */
    Task pickTaskScx(Rq rq) {
        Task prev = rq.curr;
        int cpu = rq.cpu;
        boolean keepPrev = (balFlags[cpu] & BAL_KEEP) != 0;
        boolean kickIdle = false;
        if ((balFlags[cpu] & BAL_PENDING) != 0) {
            // a class above said it had work but then picked nothing: balance_scx() never ran
            if ((prev.scx.flags & SCX_TASK_QUEUED) != 0) {
                keepPrev = true;
            } else {
                keepPrev = false;
                kickIdle = true;
            }
        } else if (keepPrev && prev.schedClass != SchedClass.EXT) {
            keepPrev = false;
        }
        if (CoreProfile.KICK_SYNC.enabled()) {
            // [6.19] pick_task_scx() moves kick_sync too
            rq.scx.bumpPntSeq();
            RacePoint.at(RacePoint.PNT_SEQ);
        }
        Task p;
        if (keepPrev) {
            p = prev;
            if (p.scx.slice == 0) {
                p.scx.slice = SCX_SLICE_DFL;
            }
            return p;
        }
        p = rq.scx.localDsq.first();
        if (p == null) {
            if (kickIdle) {
                ext.kick.kickCpu(rq.ctx, cpu, SCX_KICK_IDLE);
            }
            return null;
        }
        if (p.scx.slice == 0) {
            if (!ext.scxOpsBypassing() && !ext.warnedZeroSlice) {
                ext.klog(String.format("sched_ext: %s[%d] has zero slice in pick_task_scx()", p.comm, p.pid));
                ext.warnedZeroSlice = true;
            }
            p.scx.slice = SCX_SLICE_DFL;
        }
        return p;
    }

    /**
     * ext.c: put_prev_task_scx(rq, p, next) (6.12): only for a prev that is not running on. A
     * runnable prev with slice left goes to the head of the local DSQ; without, it goes through
     * do_enqueue_task(), with SCX_ENQ_LAST when the CPU is about to go idle (and if it lands on
     * the local DSQ the idle task is told to reschedule at once). Ends with switch_class() when
     * next is not an ext task.
     */
    void putPrevTaskScx(Rq rq, Task p, Task next) {
        SchedExtEntity s = p.scx;
        ExecCtx ctx = rq.ctx;
        if (CoreProfile.KICK_SYNC.enabled()) {
            // [6.19] pairs with the smp_cond_load_acquire() in kick_cpus_irq_workfn()
            rq.scx.bumpPntSeq();
            RacePoint.at(RacePoint.PNT_SEQ);
        }
        ext.updateCurrScx(rq);
        if ((s.flags & SCX_TASK_QUEUED) != 0) {
            ext.stoppingRunnable(ctx, rq, p);
            if (s.slice != 0 && !ext.scxOpsBypassing()) {
                ext.dispatch.dispatchEnqueue(rq.scx.localDsq, p, SCX_ENQ_HEAD);
            } else if (SchedClass.EXT.above(next.schedClass)) {
                ext.doEnqueueTask(ctx, rq, p, SCX_ENQ_LAST, -1);
                if (s.dsq == rq.scx.localDsq) {
                    reschedNext[rq.cpu] = true;
                }
            } else {
                ext.doEnqueueTask(ctx, rq, p, 0, -1);
            }
        }
        if (next.schedClass != SchedClass.EXT) {
            ext.switchClass(rq, next);
        }
    }

    /**
     * After __schedule() cleared the reschedule flag of prev: the set_tsk_need_resched(next) of
     * put_prev_task_scx() takes effect on the idle task now running. Rq lock held.
     */
    void afterPick(Rq rq) {
        if (reschedNext[rq.cpu]) {
            reschedNext[rq.cpu] = false;
            rq.setNeedResched();
        }
    }
}
