// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.schedulers;

import static org.scxemu.scx.Scx.SCX_KICK_PREEMPT;
import static org.scxemu.scx.Scx.SCX_KICK_WAIT;

/**
 * scx_pair with {@code ops.cpu_acquire()} and {@code ops.cpu_release()}: the seed's version, whose
 * pairing guarantee holds even when a higher class preempts a CPU. See {@link PairCore} for what
 * it demonstrates and how it works. {@link #create} returns this class, or
 * {@link ScxPairNoCpuRelease} when {@link PairCore.Options#cpuRelease} is false.
 */
public final class ScxPair extends PairCore {
    /**
     * scx_pair with ops.cpu_acquire() and ops.cpu_release().
     *
     * @throws IllegalArgumentException if {@code o.cpuRelease} is false: use {@link #create}
     */
    public ScxPair(Options o) {
        super(o);
        if (!o.cpuRelease) {
            throw new IllegalArgumentException("cpuRelease=false: use ScxPair.create(), which returns "
                    + ScxPairNoCpuRelease.class.getSimpleName());
        }
    }

    /** The scheduler the options describe: with or without cpu_acquire/cpu_release. */
    public static PairCore create(Options o) {
        return o.cpuRelease ? new ScxPair(o) : new ScxPairNoCpuRelease(o);
    }

    /** pair_cpu_acquire() */
    @Override
    public void cpuAcquire(int cpu, CpuAcquireArgs args) {
        pairCpuAcquire(cpu, args);
    }

    /** pair_cpu_release(): kicks the sibling with SCX_KICK_PREEMPT | SCX_KICK_WAIT. */
    @Override
    public void cpuRelease(int cpu, CpuReleaseArgs args) {
        pairCpuRelease(cpu, args, SCX_KICK_PREEMPT | SCX_KICK_WAIT);
    }
}
