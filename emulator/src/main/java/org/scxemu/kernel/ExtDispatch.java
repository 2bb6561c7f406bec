// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.scxemu.kernel.ScxConsts.*;

import java.util.concurrent.ConcurrentHashMap;

/**
 * ext.c's DSQ and dispatch machinery: finding a DSQ for a verdict, putting a task on a DSQ and
 * taking it off, the dispatch buffer and finish_dispatch(), moving tasks between CPUs' local
 * DSQs, consuming from a shared DSQ, direct dispatch and scx_bpf_reenqueue_local()'s loop; and
 * scx-emu's stranded-task accounting, which watches tasks enter and leave local DSQs.
 *
 * <p>One per {@link Ext}, made with it. State: none of its own beyond final references to the
 * Ext's DSQs ({@code globalDsq}, {@code dsqHash}) and the rqs; every method runs under the locks
 * its kernel original names (the rq lock of the CPU it works for, a DSQ's own lock).
 */
final class ExtDispatch {
    private final Ext ext;
    private final Kernel kernel;
    private final Rq[] rqs;
    private final Dsq globalDsq;
    private final ConcurrentHashMap<Long, Dsq> dsqHash;

    ExtDispatch(Ext ext) {
        this.ext = ext;
        this.kernel = ext.kernel;
        this.rqs = ext.kernel.rqs;
        this.globalDsq = ext.globalDsq;
        this.dsqHash = ext.dsqHash;
    }

    /** ext.c: find_user_dsq() */
    Dsq findUserDsq(long dsqId) {
        return dsqHash.get(dsqId);
    }

    /** ext.c: find_dsq_for_dispatch() */
    Dsq findDsqForDispatch(Rq rq, long dsqId, Task p) {
        if (dsqId == SCX_DSQ_LOCAL) {
            return rq.scx.localDsq;
        }
        if ((dsqId & SCX_DSQ_LOCAL_ON) == SCX_DSQ_LOCAL_ON) {
            int cpu = (int) (dsqId & SCX_DSQ_LOCAL_CPU_MASK);
            if (!ext.opsCpuValid(cpu, "in SCX_DSQ_LOCAL_ON dispatch verdict")) {
                return globalDsq;
            }
            return rqs[cpu].scx.localDsq;
        }
        Dsq dsq = dsqId == SCX_DSQ_GLOBAL ? globalDsq : findUserDsq(dsqId);
        if (dsq == null) {
            ext.scxOpsError("non-existent DSQ 0x%x for %s[%d]", dsqId, p.comm, p.pid);
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
                ext.scxOpsError("attempting to dispatch to a destroyed dsq");
                dsq.lock.unlock();
                dsq = globalDsq;
                dsq.lock.lock();
            }
        } else {
            dsq.rq.assertHeld();
        }
        try {
            if ((dsq.id() & SCX_DSQ_FLAG_BUILTIN) != 0 && (enqFlags & SCX_ENQ_DSQ_PRIQ) != 0) {
                ext.scxOpsError("cannot use vtime ordering for built-in DSQs");
                enqFlags &= ~SCX_ENQ_DSQ_PRIQ;
            }
            if ((enqFlags & SCX_ENQ_DSQ_PRIQ) != 0) {
                if (dsq.nrPriq == 0 && dsq.first() != null) {
                    ext.scxOpsError("DSQ ID 0x%016x already had FIFO-enqueued tasks", dsq.id());
                }
                dsq.linkPriq(p);
            } else {
                if (dsq.nrPriq != 0) {
                    ext.scxOpsError("DSQ ID 0x%016x already had PRIQ-enqueued tasks", dsq.id());
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
            // Leaving QUEUEING or DISPATCHING: a release store, paired with the acquire of a CPU
            // spinning in wait_ops_state().
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
    void taskUnlinkFromDsq(Task p, Dsq dsq) {
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
            // On no DSQ: a task moving to a local DSQ straight from the BPF scheduler is in that
            // state while DISPATCHING, with holding_cpu possibly set.
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

    /** ext.c: direct_dispatch() [v7] */
    void directDispatch(ExecCtx ctx, Task p, long enqFlags) {
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
                ext.scxOpsError("%s[%d] already direct-dispatched", p.comm, p.pid);
            } else {
                ext.scxOpsError("scheduling for %s[%d] but trying to direct-dispatch %s[%d]", ddspTask.comm,
                        ddspTask.pid, p.comm, p.pid);
            }
            return;
        }
        // SCX_DSQ_LOCAL_ON is not supported during direct dispatch [v7].
        if ((dsqId & SCX_DSQ_LOCAL_ON) == SCX_DSQ_LOCAL_ON) {
            ext.scxOpsError("SCX_DSQ_LOCAL_ON can't be used for direct-dispatch");
            return;
        }
        p.scx.ddspDsqId = dsqId;
        p.scx.ddspEnqFlags = enqFlags;
        ctx.directDispatchDone = true;
    }

    /** The dispatch kfuncs' common part: ext.c scx_dispatch_commit() [v7]. */
    void scxDispatchCommit(ExecCtx ctx, Task p, long dsqId, long enqFlags) {
        if (ctx.directDispatchTask != null) {
            markDirectDispatch(ctx, p, dsqId, enqFlags);
            return;
        }
        Rq rq = ctx.rq;
        if (rq == null) {
            ext.scxOpsError("scx_bpf_dispatch() called outside any CPU");
            return;
        }
        Rq.ScxRq sx = rq.scx;
        if (sx.dspCursor >= ext.dispatchMaxBatch) {
            ext.scxOpsError("dispatch buffer overflow");
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
            // an opaque read is enough: p is only touched once the CAS below has succeeded
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
            Ext.waitOpsState(p, SCX_OPSS_QUEUEING);
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
        // Claim p with holding_cpu, leave DISPATCHING, then take the source rq's lock. The
        // release store makes holding_cpu visible to a dequeue that sees the new state.
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
        // holding_cpu still ours means nobody moved p to another rq meanwhile
        if (p.scx.readOnceHoldingCpu() == ctx.cpu && srcRq == rqs[p.readOnceCpu()]) {
            if (srcRq == dstRq) {
                p.scx.writeOnceHoldingCpu(-1);
                dispatchEnqueue(dstRq.scx.localDsq, p, enqFlags);
            } else {
                moveRemoteTaskToLocalDsq(p, enqFlags, srcRq, dstRq);
                locked = dstRq;
            }
            // a destination CPU running something lower (e.g. idle) is told to reschedule
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
    void moveRemoteTaskToLocalDsq(Task p, long enqFlags, Rq srcRq, Rq dstRq) {
        srcRq.assertHeld();
        // deactivating sets on_rq to MIGRATING, which keeps dequeues away from p
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
    boolean taskCanRunOnRemoteRq(Task p, Rq rq, boolean triggerError) {
        int cpu = rq.cpu;
        if (!p.cpusAllowed.test(cpu)) {
            if (triggerError) {
                // [v7] text; 6.12 says "SCX_DSQ_LOCAL[_ON] target CPU %d not allowed for %s[%d]"
                ext.scxOpsError("SCX_DSQ_LOCAL[_ON] verdict target cpu %d not allowed for %s[%d]", cpu, p.comm, p.pid);
            }
            return false;
        }
        return Ext.scxRqOnline(rq);
    }

    /**
     * ext.c: consume_dispatch_q(): moves the first task this CPU may run from {@code dsq} to this
     * CPU's local DSQ. {@code rq} is locked on entry and on return but is dropped while a task is
     * pulled from another CPU.
     */
    boolean consumeDispatchQ(Rq rq, Dsq dsq) {
        for (;;) {
            // racy emptiness check first, so an empty DSQ costs no lock
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
        // holding_cpu still ours means nobody moved p to another rq meanwhile
        return p.scx.readOnceHoldingCpu() == cpu && srcRq == rqs[p.readOnceCpu()];
    }

    /** scx_bpf_consume() for the kfunc layer: flush the buffer first, then consume. */
    boolean consume(ExecCtx ctx, long dsqId) {
        Rq rq = ctx.rq;
        flushDispatchBuf(ctx, rq);
        Dsq dsq = findUserDsq(dsqId);
        if (dsqId == SCX_DSQ_GLOBAL && kernel.profile() == CoreProfile.V7) {
            dsq = globalDsq; // [v7] accepted SCX_DSQ_GLOBAL; 6.12 takes user DSQs only
        }
        if (dsq == null) {
            ext.scxOpsError("invalid DSQ ID 0x%016x", dsqId);
            return false;
        }
        if (consumeDispatchQ(rq, dsq)) {
            // A successfully consumed task can be dispatched again: keep the dispatch loop going.
            rq.scx.dspNrTasks++;
            return true;
        }
        return false;
    }

    /**
     * ext.c: scx_bpf_reenqueue_local() [v7]: re-enqueue every task on this CPU's local DSQ with
     * SCX_ENQ_REENQ. The count is snapshotted first so tasks that ops.enqueue() sends straight
     * back to SCX_DSQ_LOCAL cannot loop it.
     */
    int reenqueueLocal(ExecCtx ctx) {
        if (!ext.scxKfAllowed(ctx, SCX_KF_CPU_RELEASE)) {
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
                ext.warnOnce("scx_bpf_reenqueue_local(): local DSQ ran out of tasks");
                return i;
            }
            dispatchDequeue(rq, p);
            reenqueue.reenqueue(ext, ctx, rq, dsq, p);
        }
        return nrEnqueued;
    }

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
    void strandLocalDsq(Rq rq) {
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
}
