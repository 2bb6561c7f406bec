// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

/**
 * An hrtimer: a callback armed on one CPU's {@link TimerQueue} and fired by that CPU's thread,
 * outside every rq lock, when the kernel clock passes its deadline.
 *
 * <p>{@code deadline} and {@code heapIndex} are guarded by the lock of the queue it is armed on.
 */
public abstract class Timer {
    final String name;
    long deadline;
    int heapIndex = -1;
    TimerQueue queue;

    protected Timer(String name) {
        this.name = name;
    }

    abstract void fire(Kernel kernel);

    /** A timer whose callback is a Runnable (workload injectors, scheduler timers). */
    public static Timer of(String name, Runnable callback) {
        return new Timer(name) {
            @Override
            void fire(Kernel kernel) {
                callback.run();
            }
        };
    }

    @Override
    public String toString() {
        return name;
    }
}
