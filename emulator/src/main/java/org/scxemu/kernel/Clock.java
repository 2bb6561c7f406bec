// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

/**
 * The kernel clock, in ns since boot. The default is the host's monotonic clock; tests use
 * {@link Manual} to step time by hand.
 */
public interface Clock {
    long nanoTime();

    /** The host's monotonic clock, zeroed at creation. */
    static Clock host() {
        long base = System.nanoTime();
        return () -> System.nanoTime() - base;
    }

    /** A clock that only moves when told to. Any thread may read or advance it. */
    final class Manual implements Clock {
        private volatile long now;

        @Override
        public long nanoTime() {
            return now;
        }

        public void set(long ns) {
            now = ns;
        }

        public void advance(long ns) {
            now += ns;
        }
    }
}
