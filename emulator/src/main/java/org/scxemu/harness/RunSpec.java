// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness;

import java.util.Map;

/**
 * What one run is: the scheduler (by its CLI name, with the options it was built with), the
 * workload, the machine (CPUs, tick) and the run's length and seed. Immutable.
 *
 * @param scheduler        the scheduler's name as {@code --scheduler} takes it
 * @param schedulerOptions the options the scheduler was built with, for the JSON summary
 * @param workload         the workload's name
 * @param cpus             1 .. 256
 * @param tickNs           the scheduler tick period (1e9 / HZ)
 * @param durationNs       how long to run, in host ns
 * @param seed             the workload's seed
 * @param kernelProfile    the kernel profile
 */
public record RunSpec(String scheduler, Map<String, Object> schedulerOptions, String workload, int cpus,
        long tickNs, long durationNs, long seed, KernelProfile kernelProfile) {
}
