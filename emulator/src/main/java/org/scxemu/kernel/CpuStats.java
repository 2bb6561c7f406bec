// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

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
}
