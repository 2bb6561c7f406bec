// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.schedulers;

/**
 * scx_pair without {@code ops.cpu_acquire()} / {@code ops.cpu_release()}: the scheduler as it was
 * before the seed, for comparing against {@link ScxPair}. The core's {@code scx_ops_cpu_preempt}
 * static key stays off; a CPU taken by a higher class keeps its active bit, so its sibling goes on
 * running the pair's cgroup next to the higher-class task. See {@link PairCore} for the rest.
 *
 * <p>Obtain it with {@link ScxPair#create} and {@code cpuRelease = false}.
 */
public final class ScxPairNoCpuRelease extends PairCore {
    /** scx_pair without cpu_acquire/cpu_release; {@code o.cpuRelease} is ignored. */
    public ScxPairNoCpuRelease(Options o) {
        super(o);
    }
}
