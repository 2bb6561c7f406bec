// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.controlled;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * How a controlled run chooses the next thread at a hand-over, in the manner of controlled
 * concurrency testing tools: uniform random choice ({@code random}) or probabilistic concurrency
 * testing ({@code pct}, Burckhardt et al., ASPLOS 2010). Every choice derives from the seed, and
 * the runnable set is always given in participant order, so the same seed gives the same choices.
 *
 * <p>Used by the controller's driver thread only.
 */
public interface Strategy {
    /** The strategy names {@code --strategy} takes. */
    String RANDOM = "random";
    String PCT = "pct";

    /**
     * Picks the next runner.
     *
     * @param runnable participant ids, ascending; {@code n >= 1} of them are valid
     * @param n        how many are runnable
     * @param step     the hand-over's number (1, 2, ...)
     * @param last     the participant that ran last (just handed over), or -1 before the first step
     * @return one of {@code runnable[0..n)}
     */
    int pick(int[] runnable, int n, long step, int last);

    /** Whether {@code name} is a strategy. */
    static boolean valid(String name) {
        return RANDOM.equals(name) || PCT.equals(name);
    }

    /**
     * A fresh strategy.
     *
     * @param name         {@link #RANDOM} or {@link #PCT}
     * @param seed         the run's seed
     * @param participants how many participants there are (ids 0 .. participants - 1)
     * @param pctDepth     PCT's bug depth d (d - 1 priority change points); ignored by random
     * @param pctHorizon   the number of steps over which PCT spreads its change points
     */
    static Strategy create(String name, long seed, int participants, int pctDepth, long pctHorizon) {
        // the workload's generators start from the bare seed: start elsewhere
        SplittableRandom rnd = new SplittableRandom(seed ^ 0x5EED_C0DE_CAFE_F00DL);
        switch (name.toLowerCase(Locale.ROOT)) {
            case RANDOM:
                return (runnable, n, step, last) -> runnable[n == 1 ? 0 : rnd.nextInt(n)];
            case PCT:
                return new Pct(rnd, participants, pctDepth, pctHorizon);
            default:
                throw new IllegalArgumentException("unknown strategy " + name);
        }
    }

    /**
     * PCT: each participant gets a distinct random priority from {@code d .. d + P - 1}; the
     * highest-priority runnable one runs. At {@code d - 1} change points, steps drawn at random
     * from {@code [1, horizon]}, the participant that ran last drops to priority {@code d - i}
     * (below every initial priority). A participant picked {@link #SPIN_DEMOTE} times in a row
     * while another was runnable is assumed to spin on a lower-priority one (kick wait, ops-state
     * wait) and drops below everyone, as PCT implementations do for yielding threads; without
     * that, PCT would livelock on a spin.
     */
    final class Pct implements Strategy {
        static final int SPIN_DEMOTE = 64;
        private final long[] prio;
        private final long[] changeAt;
        private int nextChange;
        private long lowest;
        private int lastPicked = -1;
        private int streak;

        Pct(SplittableRandom rnd, int participants, int depth, long horizon) {
            if (depth < 1) {
                throw new IllegalArgumentException("pct depth must be >= 1, got " + depth);
            }
            prio = new long[participants];
            int[] perm = new int[participants];
            for (int i = 0; i < participants; i++) {
                perm[i] = i;
            }
            for (int i = participants - 1; i > 0; i--) { // Fisher-Yates
                int j = rnd.nextInt(i + 1);
                int t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
            for (int i = 0; i < participants; i++) {
                prio[i] = depth + perm[i];
            }
            changeAt = new long[depth - 1];
            for (int i = 0; i < changeAt.length; i++) {
                changeAt[i] = 1 + rnd.nextLong(Math.max(1, horizon));
            }
            java.util.Arrays.sort(changeAt);
            lowest = 1;
        }

        @Override
        public int pick(int[] runnable, int n, long step, int last) {
            while (nextChange < changeAt.length && changeAt[nextChange] <= step) {
                if (last >= 0) {
                    prio[last] = changeAt.length - nextChange; // d - i for the i-th change point
                    lowest = Math.min(lowest, prio[last]);
                }
                nextChange++;
            }
            if (n > 1 && streak >= SPIN_DEMOTE && lastPicked >= 0) {
                prio[lastPicked] = --lowest;
                streak = 0;
            }
            int best = runnable[0];
            for (int i = 1; i < n; i++) {
                if (prio[runnable[i]] > prio[best]) {
                    best = runnable[i];
                }
            }
            streak = best == lastPicked ? streak + 1 : 1;
            lastPicked = best;
            return best;
        }
    }
}
