// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.schedulers;

/**
 * scx_qmap without {@code ops.cpu_release()}: the scheduler as it was before the seed, for
 * comparing against {@link ScxQmap}. With neither cpu_acquire nor cpu_release the core's
 * {@code scx_ops_cpu_preempt} static key stays off, and tasks on the local DSQ of a CPU taken by a
 * higher class wait there until the CPU comes back. See {@link QmapCore} for the rest.
 *
 * <p>Obtain it with {@link ScxQmap#create} and {@code cpuRelease = false}.
 */
public final class ScxQmapNoCpuRelease extends QmapCore {
    /** scx_qmap without ops.cpu_release(); {@code o.cpuRelease} is ignored. */
    public ScxQmapNoCpuRelease(ScxQmap.Options o) {
        super(o);
    }
}
