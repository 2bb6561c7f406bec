// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.controlled;

/**
 * What a controlled run is, besides the machine: the seed and strategy that decide every
 * hand-over, the cost of a step in simulated time, and the bounds. Immutable.
 *
 * @param seed         decides every choice (with the workload's seed, usually the same value)
 * @param strategy     {@link Strategy#RANDOM} or {@link Strategy#PCT}
 * @param pctDepth     PCT's d: d - 1 priority change points (1 = none)
 * @param pctHorizon   the steps over which PCT spreads its change points
 * @param stepNs       simulated ns each hand-over costs (the kernel work between two race points)
 * @param maxSteps     the most hand-overs a run may take: the bound that makes it always end
 * @param logCapacity  how many of the last hand-overs are kept ({@link HandOverLog})
 */
public record ControlledSpec(long seed, String strategy, int pctDepth, long pctHorizon, long stepNs, long maxSteps,
        int logCapacity) {
    public static final int PCT_DEPTH_DEFAULT = 3;
    public static final long PCT_HORIZON_DEFAULT = 20_000L;
    public static final long STEP_NS_DEFAULT = 100L;
    public static final long MAX_STEPS_DEFAULT = 100_000_000L;
    public static final int LOG_CAPACITY_DEFAULT = 4096;

    public ControlledSpec {
        if (!Strategy.valid(strategy)) {
            throw new IllegalArgumentException("unknown strategy " + strategy);
        }
        if (pctDepth < 1 || pctHorizon < 1 || stepNs < 1 || maxSteps < 1 || logCapacity < 1) {
            throw new IllegalArgumentException("controlled spec out of range: " + pctDepth + ", " + pctHorizon + ", "
                    + stepNs + ", " + maxSteps + ", " + logCapacity);
        }
    }

    /** The defaults for {@code seed} and {@code strategy}. */
    public static ControlledSpec of(long seed, String strategy) {
        return new ControlledSpec(seed, strategy, PCT_DEPTH_DEFAULT, PCT_HORIZON_DEFAULT, STEP_NS_DEFAULT,
                MAX_STEPS_DEFAULT, LOG_CAPACITY_DEFAULT);
    }

    public ControlledSpec withPctDepth(int d) {
        return new ControlledSpec(seed, strategy, d, pctHorizon, stepNs, maxSteps, logCapacity);
    }

    public ControlledSpec withPctHorizon(long h) {
        return new ControlledSpec(seed, strategy, pctDepth, h, stepNs, maxSteps, logCapacity);
    }

    public ControlledSpec withMaxSteps(long m) {
        return new ControlledSpec(seed, strategy, pctDepth, pctHorizon, stepNs, m, logCapacity);
    }

    public ControlledSpec withLogCapacity(int c) {
        return new ControlledSpec(seed, strategy, pctDepth, pctHorizon, stepNs, maxSteps, c);
    }

    public ControlledSpec withSeed(long s) {
        return new ControlledSpec(s, strategy, pctDepth, pctHorizon, stepNs, maxSteps, logCapacity);
    }
}
