// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Per-CPU latency histograms, recorded under the rq lock of their CPU (so one writer at a time).
 * They auto-resize: small at boot (a 256-CPU kernel stays cheap), they allocate only when a
 * value beyond the range seen so far arrives, never in the steady state. Read after the run, or
 * by copying under the rq lock.
 */
public final class CpuStats {
    /** ns a task waited runnable before it ran (latency_ns.wait). */
    final Histogram wait = new Histogram(3);
    /** ns a task sat on a local DSQ while its CPU ran a higher class (latency_ns.stranded). */
    final Histogram stranded = new Histogram(3);

    void recordWait(long ns) {
        if (ns >= 0) {
            wait.recordValue(ns);
        }
    }

    void recordStranded(long ns) {
        if (ns >= 0) {
            stranded.recordValue(ns);
        }
    }

    /** A copy of the wait histogram (call with the rq lock held or after the run). */
    public Histogram waitCopy() {
        return wait.copy();
    }

    public Histogram strandedCopy() {
        return stranded.copy();
    }

    /**
     * Every CPU's busy time up to {@code now} on the kernel clock: what the context switches
     * credited so far plus the running task's time since the last switch, so a CPU that runs one
     * task all along counts as busy. Two snapshots bound a window (the run's), so time spent
     * forking before it or winding down after it is not counted. Each figure is read under its rq
     * lock; a lock not free within a few ms (an op stuck with it held) gives a racy read instead
     * (racy but benign: the figure is for the summary only).
     */
    public static long[] busySnapshot(Kernel k, long now) {
        long[] busy = new long[k.nrCpus];
        for (int cpu = 0; cpu < k.nrCpus; cpu++) {
            Rq rq = k.rq(cpu);
            boolean locked = false;
            try {
                locked = rq.lock.tryLock(5, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try {
                long b = rq.busyNs;
                if (rq.curr != rq.idle && now - rq.lastSwitchNs > 0) {
                    b += now - rq.lastSwitchNs;
                }
                busy[cpu] = b;
            } finally {
                if (locked) {
                    rq.lock.unlock();
                }
            }
        }
        return busy;
    }
}
