// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * {@code struct bpf_iter_scx_dsq_kern} (6.12): the state of one walk over a user DSQ. A BPF
 * program keeps it on its stack and passes it to {@code bpf_iter_scx_dsq_new/next/destroy()} and
 * to the {@code scx_bpf_dispatch_from_dsq*()} kfuncs; a Java scheduler can also walk it with a
 * for-each loop ({@code for (Task p : bpf_for_each_scx_dsq(id, 0))}), each step being one
 * {@code bpf_iter_scx_dsq_next()}.
 *
 * <p>What a walk sees (the kernel's rules): only tasks queued before {@code new()} (their
 * {@code dsq_seq} is not after the snapshot {@code priv}), each one as the walk reaches it, so a
 * task may have left the DSQ by the time the caller looks at it.
 *
 * <p>Where the walk stands: the kernel links a cursor node into the DSQ's list right after (or,
 * walking in reverse, right before) the last task returned, so it keeps its place when that task
 * leaves. scx-emu keeps the last task returned ({@code anchor}) and the key of its place
 * instead: while the anchor is still on the DSQ under the same insertion ({@code dsq_seq}), the
 * walk continues from it; once it has left, the walk continues from the first task past the
 * anchor's key. The tasks queued before the walk keep their relative order for as long as they
 * stay queued (insertions never move them), and any task queued later is skipped anyway, so both
 * ways return the same tasks; nothing is linked into the DSQ, so a walk abandoned half-way (a
 * {@code break} out of a for-each) leaves nothing behind. The key is the FIFO position
 * ({@code dsqPos}) on a FIFO DSQ and (vtime, dsq_seq) on a vtime-ordered one.
 *
 * <p>Threads: like the BPF stack slot it models, an iterator belongs to the thread that uses it;
 * its fields are plain and read and written by that thread only (task fields it reads are read
 * under the DSQ's lock).
 */
public final class DsqIter implements Iterable<Task>, Iterator<Task> {
    /** kit->dsq: null before new(), after a failed new() or destroy(). */
    Dsq dsq;
    /** kit->cursor.flags: SCX_DSQ_ITER_REV and the __SCX_DSQ_ITER_HAS_* overrides. */
    long flags;
    /** kit->cursor.priv: dsq->seq when the walk began. */
    int priv;
    /** Whether the cursor is on the list (a task was returned and the end not yet reached). */
    boolean onList;
    /** The last task returned and the key of its place on the DSQ at that time. */
    Task anchor;
    int anchorSeq;
    long anchorPos;
    long anchorVtime;
    boolean anchorPriq;
    /** kit->slice / kit->vtime: scx_bpf_dispatch_from_dsq_set_slice() / _set_vtime() values. */
    long slice;
    long vtime;

    /** Java iteration: the task fetched by hasNext() and not yet handed out by next(). */
    private Task peeked;
    private boolean peekValid;

    /** An iterator slot; bpf_iter_scx_dsq_new() starts a walk with it. */
    public DsqIter() {
    }

    /** This iterator: it is single-use, as a BPF iterator is. */
    @Override
    public Iterator<Task> iterator() {
        return this;
    }

    /** Fetches the next task with bpf_iter_scx_dsq_next() unless one is already fetched. */
    @Override
    public boolean hasNext() {
        if (!peekValid) {
            peeked = KfuncsDsq.iterNext(this);
            peekValid = true;
        }
        return peeked != null;
    }

    @Override
    public Task next() {
        if (!hasNext()) {
            throw new NoSuchElementException("DSQ iteration ended");
        }
        peekValid = false;
        return peeked;
    }

    /** The DSQ this walk is over, or null (no walk, a failed new() or a destroyed iterator). */
    public Dsq dsq() {
        return dsq;
    }
}
