// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.scxemu.kernel.ScxConsts.*;

/**
 * The kfuncs 6.12 added around DSQs: the DSQ iterator ({@code bpf_iter_scx_dsq_new/next/destroy})
 * and the {@code scx_bpf_dispatch_from_dsq*()} family that moves a task met during a walk to
 * another DSQ, with the 6.13 spellings ({@code scx_bpf_dsq_move*}) as entries counted under their
 * own names. Each kfunc counts its call and is refused (the scheduler ejected with
 * {@link Kfunc#refusal}) under a profile whose kernel lacks it.
 *
 * <p>Locks: the walk takes the DSQ's lock for each step; a move takes the task's rq lock and then
 * the source DSQ's lock (rq before DSQ, as everywhere), from ops.dispatch() by trading this CPU's
 * rq lock for the task's and back.
 */
public final class KfuncsDsq {
    private KfuncsDsq() {
    }

    /**
     * Counts a call of {@code k} and checks that the running profile's kernel has it; a kfunc the
     * kernel lacks ejects the scheduler and returns null (the caller returns its neutral value).
     */
    static ExecCtx enterGated(Kfunc k) {
        ExecCtx ctx = ExecCtx.currentAny();
        ctx.kfuncCalls[k.ordinal()]++;
        CoreProfile profile = ctx.kernel.profile();
        if (!k.existsIn(profile)) {
            ctx.kernel.ext.scxOpsError("%s", k.refusal(profile));
            return null;
        }
        return ctx;
    }

    /** u32_before(a, b): wrap-safe "a is before b" on 32-bit sequence numbers. */
    static boolean u32Before(int a, int b) {
        return a - b < 0;
    }

    // ---------------------------------------------------------------------------------------------
    // The DSQ iterator
    // ---------------------------------------------------------------------------------------------

    /** ext.c: bpf_iter_scx_dsq_new() */
    public static int iterNew(DsqIter it, long dsqId, long flags) {
        ExecCtx ctx = enterGated(Kfunc.ITER_SCX_DSQ_NEW);
        // next() and destroy() may follow whatever this returns: start from a cleared slot
        it.dsq = null;
        it.onList = false;
        it.anchor = null;
        if (ctx == null) {
            return -EINVAL;
        }
        if ((flags & ~__SCX_DSQ_ITER_USER_FLAGS) != 0) {
            return -EINVAL;
        }
        // 6.12 walks user DSQs only: the global and local DSQs are not in the hash
        Dsq dsq = ctx.kernel.ext.dispatch.findUserDsq(dsqId);
        if (dsq == null) {
            return -ENOENT;
        }
        it.flags = flags;
        // READ_ONCE(dsq->seq): taken under the DSQ lock here, which orders it after every
        // insertion that lock published (seq is a plain field guarded by it)
        dsq.lock.lock();
        try {
            it.priv = dsq.seq;
        } finally {
            dsq.lock.unlock();
        }
        it.dsq = dsq;
        return 0;
    }

    /** ext.c: bpf_iter_scx_dsq_next() */
    public static Task iterNext(DsqIter it) {
        ExecCtx ctx = enterGated(Kfunc.ITER_SCX_DSQ_NEXT);
        Dsq dsq = it.dsq;
        if (ctx == null || dsq == null) {
            return null;
        }
        boolean rev = (it.flags & SCX_DSQ_ITER_REV) != 0;
        dsq.lock.lock();
        try {
            Task p;
            if (!it.onList) {
                p = rev ? dsq.tail : dsq.head;
            } else if (it.anchor.scx.dsq == dsq && it.anchor.scx.dsqSeq == it.anchorSeq) {
                p = step(it.anchor, rev);
            } else {
                p = firstPastAnchor(it, dsq, rev);
            }
            // the walk only sees tasks queued before it began
            while (p != null && u32Before(it.priv, p.scx.dsqSeq)) {
                p = step(p, rev);
            }
            if (p != null) {
                it.onList = true;
                it.anchor = p;
                it.anchorSeq = p.scx.dsqSeq;
                it.anchorPos = p.scx.dsqPos;
                it.anchorVtime = p.scx.dsqVtime;
                it.anchorPriq = (p.scx.dsqFlags & SchedExtEntity.SCX_TASK_DSQ_ON_PRIQ) != 0;
            } else {
                // list_del_init(&cursor): a later next() would start over
                it.onList = false;
                it.anchor = null;
            }
            return p;
        } finally {
            dsq.lock.unlock();
        }
    }

    /** ext.c: bpf_iter_scx_dsq_destroy() */
    public static void iterDestroy(DsqIter it) {
        enterGated(Kfunc.ITER_SCX_DSQ_DESTROY);
        // nothing is linked into the DSQ (see DsqIter), so taking the cursor off is a local reset
        it.onList = false;
        it.anchor = null;
        it.dsq = null;
    }

    /** The neighbour of {@code p} in the walk's direction; DSQ lock held. */
    private static Task step(Task p, boolean rev) {
        return rev ? p.scx.dsqPrev : p.scx.dsqNext;
    }

    /**
     * Where the kernel's cursor stands once the task it followed has left: the first task past
     * the anchor's key in the walk's direction. DSQ lock held.
     */
    private static Task firstPastAnchor(DsqIter it, Dsq dsq, boolean rev) {
        Task p = rev ? dsq.tail : dsq.head;
        while (p != null && !pastAnchor(it, p, rev)) {
            p = step(p, rev);
        }
        return p;
    }

    /** Whether {@code p} lies past the anchor's place in the walk's direction. */
    private static boolean pastAnchor(DsqIter it, Task p, boolean rev) {
        SchedExtEntity s = p.scx;
        int cmp;
        if (it.anchorPriq && (s.dsqFlags & SchedExtEntity.SCX_TASK_DSQ_ON_PRIQ) != 0) {
            // vtime order (wrap-safe), equal vtimes in insertion order
            long d = s.dsqVtime - it.anchorVtime;
            cmp = d != 0 ? Long.signum(d) : Integer.signum(s.dsqSeq - it.anchorSeq);
        } else {
            cmp = Long.compare(s.dsqPos, it.anchorPos);
        }
        return rev ? cmp < 0 : cmp > 0;
    }

    // ---------------------------------------------------------------------------------------------
    // scx_bpf_dispatch_from_dsq() and friends
    // ---------------------------------------------------------------------------------------------

    /** ext.c: scx_bpf_dispatch_from_dsq_set_slice(); also scx_bpf_dsq_move_set_slice() (6.13). */
    public static void dispatchFromDsqSetSlice(Kfunc k, DsqIter it, long slice) {
        if (enterGated(k) == null) {
            return;
        }
        it.slice = slice;
        it.flags |= __SCX_DSQ_ITER_HAS_SLICE;
    }

    /** ext.c: scx_bpf_dispatch_from_dsq_set_vtime(); also scx_bpf_dsq_move_set_vtime() (6.13). */
    public static void dispatchFromDsqSetVtime(Kfunc k, DsqIter it, long vtime) {
        if (enterGated(k) == null) {
            return;
        }
        it.vtime = vtime;
        it.flags |= __SCX_DSQ_ITER_HAS_VTIME;
    }

    /**
     * ext.c: scx_bpf_dispatch_from_dsq() / scx_bpf_dispatch_vtime_from_dsq() (and 6.13's
     * scx_bpf_dsq_move() / _vtime()): {@code k} is the kfunc called, {@code priq} true for the
     * vtime ones.
     */
    public static boolean dispatchFromDsq(Kfunc k, DsqIter it, Task p, long dsqId, long enqFlags, boolean priq) {
        ExecCtx ctx = enterGated(k);
        if (ctx == null) {
            return false;
        }
        return scxDispatchFromDsq(ctx, it, p, dsqId, priq ? enqFlags | SCX_ENQ_DSQ_PRIQ : enqFlags);
    }

    /** ext.c: scx_dispatch_from_dsq() */
    private static boolean scxDispatchFromDsq(ExecCtx ctx, DsqIter kit, Task p, long dsqId, long enqFlags) {
        Dsq srcDsq = kit.dsq;
        // a failed bpf_iter_scx_dsq_new() leaves no DSQ: nothing to move from
        if (srcDsq == null) {
            return false;
        }
        Ext ext = ctx.kernel.ext;
        // scx_kf_allowed_if_unlocked() || scx_kf_allowed(SCX_KF_DISPATCH). 6.12 has no
        // SLEEPABLE bit: its sleepable ops (ops.init() and friends) run unlocked, mask 0.
        if ((ctx.kfMask & ~SCX_KF_SLEEPABLE) != 0 && !ext.scxKfAllowed(ctx, SCX_KF_DISPATCH)) {
            return false;
        }
        if (p == null) {
            ext.scxOpsError("called with NULL task");
            return false;
        }
        Rq[] rqs = ctx.kernel.rqs;
        Rq srcRq = rqs[p.readOnceCpu()];
        // this_rq(): a thread that is no CPU (a test, the loader) counts as CPU 0, as timers do
        Rq thisRq = ctx.rq != null ? ctx.rq : rqs[0];
        boolean inBalance = ctx.rq != null && (thisRq.scx.flags & SCX_RQ_BALANCING) != 0
                && thisRq.lock.isHeldByCurrentThread();
        if (inBalance) {
            if (thisRq != srcRq) {
                thisRq.scx.lockDroppedSinceAcquire = true;
                thisRq.lock.unlock();
                RacePoint.at(RacePoint.CROSS_CPU_MOVE);
                srcRq.lock.lock();
            }
        } else {
            srcRq.lock.lock();
        }
        Rq lockedRq = srcRq;
        boolean dispatched = false;
        srcDsq.lock.lock();
        SchedExtEntity s = p.scx;
        // Gone meanwhile (consumed, dequeued, queued again after the walk began) or being taken
        // by a consumer on another CPU: not ours to move.
        if (s.dsq != srcDsq || u32Before(kit.priv, s.dsqSeq) || s.readOnceHoldingCpu() >= 0) {
            srcDsq.lock.unlock();
        } else if (srcRq != rqs[p.readOnceCpu()]) {
            ext.warnOnce("scx_dispatch_from_dsq(): " + p + " changed rq under its rq lock");
            srcDsq.lock.unlock();
        } else {
            Dsq dstDsq = ext.dispatch.findDsqForDispatch(thisRq, dsqId, p);
            // the overrides land before the move, so the new vtime orders the insertion
            if ((kit.flags & __SCX_DSQ_ITER_HAS_VTIME) != 0) {
                s.dsqVtime = kit.vtime;
            }
            if ((kit.flags & __SCX_DSQ_ITER_HAS_SLICE) != 0) {
                s.slice = kit.slice;
            }
            lockedRq = moveTaskBetweenDsqs(ext, p, enqFlags, srcDsq, dstDsq);
            dispatched = true;
        }
        if (inBalance) {
            if (thisRq != lockedRq) {
                lockedRq.lock.unlock();
                thisRq.lock.lock();
            }
        } else {
            lockedRq.lock.unlock();
        }
        kit.flags &= ~(__SCX_DSQ_ITER_HAS_SLICE | __SCX_DSQ_ITER_HAS_VTIME);
        return dispatched;
    }

    /**
     * ext.c: move_task_between_dsqs() (6.12): moves {@code p} from the non-local {@code srcDsq}
     * to {@code dstDsq}. On entry the source DSQ's lock and the task's rq lock are held; the DSQ
     * lock is released on return, and the rq lock returned is the one held then (the
     * destination's when {@code p} went to another CPU's local DSQ).
     */
    private static Rq moveTaskBetweenDsqs(Ext ext, Task p, long enqFlags, Dsq srcDsq, Dsq dstDsq) {
        ExtDispatch dispatch = ext.dispatch;
        Rq srcRq = ext.kernel.rqs[p.readOnceCpu()];
        Rq dstRq;
        srcRq.assertHeld();
        if (dstDsq.isLocal()) {
            dstRq = dstDsq.rq;
            if (srcRq != dstRq && !dispatch.taskCanRunOnRemoteRq(p, dstRq, true)) {
                // find_global_dsq()
                dstDsq = ext.globalDsq;
                dstRq = srcRq;
            }
        } else {
            // a non-local destination needs no migration
            dstRq = srcRq;
        }
        if (dstDsq.isLocal()) {
            if (srcRq == dstRq) {
                // move_local_task_to_local_dsq(): FIFO or head only (a vtime flag is dropped
                // silently here), then the local DSQ's preemption and resched rules
                if (p.scx.readOnceHoldingCpu() >= 0) {
                    ext.warnOnce("move_local_task_to_local_dsq(): " + p + " has a holding_cpu");
                }
                dispatch.taskUnlinkFromDsq(p, srcDsq);
                p.scx.dsq = null;
                srcDsq.lock.unlock();
                dispatch.dispatchEnqueue(dstDsq, p, enqFlags & ~SCX_ENQ_DSQ_PRIQ);
            } else {
                // deactivate_task() in there takes p off srcDsq under srcDsq's lock
                srcDsq.lock.unlock();
                dispatch.moveRemoteTaskToLocalDsq(p, enqFlags, srcRq, dstRq);
            }
        } else {
            // DSQ to DSQ: the source lock is already ours, so unlink here rather than
            // dispatch_dequeue()
            dispatch.taskUnlinkFromDsq(p, srcDsq);
            p.scx.dsq = null;
            srcDsq.lock.unlock();
            dispatch.dispatchEnqueue(dstDsq, p, enqFlags);
        }
        return dstRq;
    }
}
