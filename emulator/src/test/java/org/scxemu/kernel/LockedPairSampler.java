package org.scxemu.kernel;

/**
 * Test-only ground truth for the {@code pair} workload's observer: reads two CPUs' current tasks
 * with both rq locks held, taken in CPU order (the kernel's double_rq_lock()). A CPU holds its rq
 * lock for the whole of __schedule(), so what this sees is never a task that its CPU has already
 * left for the scheduler. Lives in the kernel package for the package-private lock; the emulator
 * offers no such helper to workloads.
 */
public final class LockedPairSampler {
    private LockedPairSampler() {
    }

    /** {@link org.scxemu.harness.workload.Pair.Sampler}: always consistent. */
    public static boolean sample(Kernel k, int a, int b, Task[] out) {
        Rq first = k.rq(Math.min(a, b));
        Rq second = k.rq(Math.max(a, b));
        first.lock.lock();
        try {
            second.lock.lock();
            try {
                out[0] = k.rq(a).curr;
                out[1] = k.rq(b).curr;
            } finally {
                second.lock.unlock();
            }
        } finally {
            first.lock.unlock();
        }
        return true;
    }
}
