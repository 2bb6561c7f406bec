// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.scxemu.kernel.OpWatch;

/**
 * A call into a scheduler's own (user-space) code from the harness, such as {@code stats()} at
 * the end of a run: it may throw or never return, and the run's results must survive either. The
 * call runs on a daemon thread of its own and is given a bound; a fault or a timeout is written
 * to the run's log and the caller gets its fallback. Stateless; any thread.
 */
public final class UserCall {
    /** How long a user-space call may take. */
    public static final long TIMEOUT_NS = 2_000_000_000L;

    private UserCall() {
    }

    /**
     * {@code call}'s value, or {@code fallback} if it threw or did not return within
     * {@link #TIMEOUT_NS}; then a line naming {@code what} is added to {@code log}.
     */
    public static <T> T bounded(String what, Callable<T> call, T fallback, List<String> log) {
        FutureTask<T> f = new FutureTask<>(call);
        Thread t = new Thread(f, "scx-user-call");
        t.setDaemon(true);
        t.start();
        try {
            return f.get(TIMEOUT_NS, TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            log.add("sched_ext: the scheduler's " + what + " threw " + OpWatch.describe(e.getCause()));
        } catch (TimeoutException e) {
            log.add("sched_ext: the scheduler's " + what + " did not return within "
                    + TIMEOUT_NS / 1_000_000_000L + " s");
            t.interrupt();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return fallback;
    }
}
