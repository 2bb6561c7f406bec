// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import java.util.concurrent.locks.ReentrantLock;

/**
 * One CPU's hrtimer base: a binary min-heap of {@link Timer}s by deadline.
 *
 * <p>Any thread may arm or cancel (under {@code lock}); only the owning CPU's thread fires.
 * {@link #nextDeadline} is read lock-free by the owning CPU's idle strategy (racy but benign: a
 * stale value only shortens or lengthens one wait, and arming an earlier timer from another
 * thread unparks the owner).
 */
final class TimerQueue {
    private final ReentrantLock lock = new ReentrantLock();
    private Timer[] heap = new Timer[64];
    private int size;
    private volatile long nextDeadline = Long.MAX_VALUE;
    private final Rq rq;

    TimerQueue(Rq rq) {
        this.rq = rq;
    }

    long nextDeadline() {
        return nextDeadline;
    }

    /** hrtimer_start(): (re)arms {@code t} at {@code deadline} on this queue. */
    void arm(Timer t, long deadline) {
        TimerQueue old = t.queue;
        if (old != null && old != this) {
            old.cancel(t);
        }
        boolean earlier;
        lock.lock();
        try {
            if (t.queue == this) {
                removeAt(t.heapIndex);
            }
            t.deadline = deadline;
            t.queue = this;
            if (size == heap.length) {
                heap = java.util.Arrays.copyOf(heap, size * 2);
            }
            heap[size] = t;
            t.heapIndex = size;
            siftUp(size++);
            earlier = heap[0] == t;
            nextDeadline = heap[0].deadline;
        } finally {
            lock.unlock();
        }
        if (earlier) {
            rq.wakeCpuThread();
        }
    }

    /** hrtimer_cancel() */
    boolean cancel(Timer t) {
        lock.lock();
        try {
            if (t.queue != this) {
                return false;
            }
            removeAt(t.heapIndex);
            nextDeadline = size == 0 ? Long.MAX_VALUE : heap[0].deadline;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Pops the earliest timer if it is due at {@code now}, else null. */
    Timer pollDue(long now) {
        if (nextDeadline > now) {
            return null;
        }
        lock.lock();
        try {
            if (size == 0 || heap[0].deadline > now) {
                return null;
            }
            Timer t = heap[0];
            removeAt(0);
            nextDeadline = size == 0 ? Long.MAX_VALUE : heap[0].deadline;
            return t;
        } finally {
            lock.unlock();
        }
    }

    int size() {
        lock.lock();
        try {
            return size;
        } finally {
            lock.unlock();
        }
    }

    private void removeAt(int i) {
        Timer t = heap[i];
        t.queue = null;
        t.heapIndex = -1;
        size--;
        if (i != size) {
            Timer last = heap[size];
            heap[i] = last;
            last.heapIndex = i;
            heap[size] = null;
            siftDown(i);
            siftUp(last.heapIndex);
        } else {
            heap[size] = null;
        }
    }

    private void siftUp(int i) {
        Timer t = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            Timer p = heap[parent];
            if (p.deadline <= t.deadline) {
                break;
            }
            heap[i] = p;
            p.heapIndex = i;
            i = parent;
        }
        heap[i] = t;
        t.heapIndex = i;
    }

    private void siftDown(int i) {
        Timer t = heap[i];
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            int right = child + 1;
            if (right < size && heap[right].deadline < heap[child].deadline) {
                child = right;
            }
            if (t.deadline <= heap[child].deadline) {
                break;
            }
            heap[i] = heap[child];
            heap[i].heapIndex = i;
            i = child;
        }
        heap[i] = t;
        t.heapIndex = i;
    }
}
