// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * {@code struct scx_dispatch_q}: a dispatch queue, an intrusive doubly-linked list of tasks
 * threaded through {@code p->scx.dsqPrev/dsqNext} (no allocation per insertion).
 *
 * <p>Guards: a local DSQ (one per CPU, embedded in {@code rq->scx}) is protected by its rq lock
 * and its own {@code lock} is null; global and user DSQs are protected by {@code lock}, a
 * {@link RawSpinLock} (the kernel's {@code raw_spinlock_t}: waiters spin, FIFO). Lock order is rq
 * lock, then DSQ lock.
 *
 * <p>{@code nr} is written with WRITE_ONCE (opaque) under the guarding lock and may be read
 * without any lock with READ_ONCE ({@link #readOnceNr}), as {@code balance_scx()} and
 * {@code scx_bpf_dsq_nr_queued()} do: racy but benign, a reader only uses it as a hint or
 * re-checks under the lock. {@code id} becomes {@code SCX_DSQ_INVALID} when a user DSQ is
 * destroyed; it is volatile so a late dispatcher sees it (destroy_dsq() and dispatch_enqueue()
 * both hold the DSQ lock, so the volatile is only for the unlocked reads in dumps).
 *
 * <p>Invariants (under the guarding lock): {@code nr} equals the number of linked tasks; every
 * linked task has {@code p.scx.dsq == this}; when {@code nrPriq > 0} every linked task is PRIQ
 * and the list is in {@code dsq_vtime} order (wrap-safe), FIFO among equal vtimes.
 */
public final class Dsq {
    private volatile long id;
    /** The DSQ lock; null for a local DSQ (the rq lock protects it). */
    final RawSpinLock lock;
    /** The owning rq of a local DSQ, else null. */
    final Rq rq;
    Task head;
    Task tail;
    @SuppressWarnings("unused")
    private int nr;
    /** Number of tasks queued with SCX_ENQ_DSQ_PRIQ (the rb-tree is non-empty iff &gt; 0). */
    int nrPriq;
    /** dsq->seq: incremented on every insertion. */
    int seq;
    /** The lowest and highest {@code dsqPos} handed out (head / tail insertions); DSQ lock. */
    private long posHead;
    private long posTail;

    Dsq(long id, Rq localOwner) {
        this.id = id;
        this.rq = localOwner;
        this.lock = localOwner == null ? new RawSpinLock() : null;
    }

    public long id() {
        return id;
    }

    void setId(long v) {
        id = v;
    }

    boolean isLocal() {
        return rq != null;
    }

    /** READ_ONCE(dsq->nr): any thread, racy but benign (see the class comment). */
    public int readOnceNr() {
        return (int) NR.getOpaque(this);
    }

    /** dsq->nr under the guarding lock. */
    int lpNr() {
        return (int) NR.get(this);
    }

    private void writeOnceNr(int v) {
        NR.setOpaque(this, v);
    }

    void assertHeld() {
        if (rq != null) {
            rq.assertHeld();
        } else if (!lock.isHeldByCurrentThread()) {
            throw new IllegalStateException("dsq lock not held for 0x" + Long.toHexString(id));
        }
    }

    /** list_empty(&dsq->list) without the lock: racy peek, re-checked under the lock. */
    boolean racyEmpty() {
        return readOnceNr() == 0;
    }

    Task first() {
        return head;
    }

    /** Links {@code p} first; a race point ({@link RacePoint#DSQ_INSERT}) once it is linked. */
    void linkHead(Task p) {
        linkHead0(p);
        RacePoint.at(RacePoint.DSQ_INSERT);
    }

    /** Links {@code p} last; a race point ({@link RacePoint#DSQ_INSERT}) once it is linked. */
    void linkTail(Task p) {
        linkTail0(p);
        RacePoint.at(RacePoint.DSQ_INSERT);
    }

    private void linkHead0(Task p) {
        SchedExtEntity s = p.scx;
        s.dsqPrev = null;
        s.dsqNext = head;
        if (head != null) {
            head.scx.dsqPrev = p;
        } else {
            tail = p;
        }
        head = p;
        s.dsqPos = --posHead;
        writeOnceNr(lpNr() + 1);
    }

    private void linkTail0(Task p) {
        SchedExtEntity s = p.scx;
        s.dsqNext = null;
        s.dsqPrev = tail;
        if (tail != null) {
            tail.scx.dsqNext = p;
        } else {
            head = p;
        }
        tail = p;
        s.dsqPos = ++posTail;
        writeOnceNr(lpNr() + 1);
    }

    /**
     * Inserts a PRIQ task in dsq_vtime order; equal vtimes go after the existing ones. Scans from
     * the tail, since new vtimes are usually the largest. A race point once it is linked.
     */
    void linkPriq(Task p) {
        long v = p.scx.dsqVtime;
        Task after = tail;
        // time_before64(v, after.vtime): (s64)(v - after) < 0
        while (after != null && v - after.scx.dsqVtime < 0) {
            after = after.scx.dsqPrev;
        }
        if (after == null) {
            linkHead0(p);
        } else if (after == tail) {
            linkTail0(p);
        } else {
            Task next = after.scx.dsqNext;
            p.scx.dsqPrev = after;
            p.scx.dsqNext = next;
            after.scx.dsqNext = p;
            next.scx.dsqPrev = p;
            writeOnceNr(lpNr() + 1);
        }
        p.scx.dsqFlags |= SchedExtEntity.SCX_TASK_DSQ_ON_PRIQ;
        nrPriq++;
        RacePoint.at(RacePoint.DSQ_INSERT);
    }

    /** task_unlink_from_dsq() minus the p->scx.dsq update; a race point once it is unlinked. */
    void unlink(Task p) {
        SchedExtEntity s = p.scx;
        Task prev = s.dsqPrev;
        Task next = s.dsqNext;
        if (prev != null) {
            prev.scx.dsqNext = next;
        } else {
            head = next;
        }
        if (next != null) {
            next.scx.dsqPrev = prev;
        } else {
            tail = prev;
        }
        s.dsqPrev = null;
        s.dsqNext = null;
        if ((s.dsqFlags & SchedExtEntity.SCX_TASK_DSQ_ON_PRIQ) != 0) {
            s.dsqFlags &= ~SchedExtEntity.SCX_TASK_DSQ_ON_PRIQ;
            nrPriq--;
        }
        writeOnceNr(lpNr() - 1);
        RacePoint.at(RacePoint.DSQ_REMOVE);
    }

    @Override
    public String toString() {
        return "dsq 0x" + Long.toHexString(id);
    }

    // VarHandle mechanics
    private static final VarHandle NR;

    static {
        try {
            NR = MethodHandles.lookup().findVarHandle(Dsq.class, "nr", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
