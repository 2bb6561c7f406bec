// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The kernel's {@code raw_spinlock_t} for the DSQ locks: a FIFO ticket spin lock. A waiter never
 * sleeps and never allocates: it takes a ticket with one atomic add and spins
 * ({@link Thread#onSpinWait()}) until the lock's "now serving" counter reaches it, so under
 * contention the lock passes to waiters strictly in arrival order, as the kernel's queued
 * spinlock (and the ticket spinlock before it) does (in queued mode: see below for the
 * test-and-set mode of an oversubscribed host). The uncontended cost is one atomic add and
 * one load to lock, one release store to unlock; neither touches the scheduler of the host.
 *
 * <p>{@link #lock()} is a race point ({@link RacePoint#LOCK}) exactly like {@link RacePointLock}'s:
 * with no hook installed the test is a {@link StaticKey} folded to {@code false}; with a hook
 * installed the hook runs first and may take the lock itself with {@link #tryLock()} (a controlled
 * run does: it hands the machine over while the lock is busy, instead of spinning on a lock whose
 * holder it has parked).
 *
 * <p>Not reentrant, like the kernel's: a thread that locks a lock it already holds would spin
 * forever, so with lockdep on ({@code Kernel.LOCKDEP}) it throws instead. {@link #unlock()} by a
 * thread that does not hold the lock throws {@link IllegalMonitorStateException}, as
 * {@code ReentrantLock} does.
 *
 * <h2>More simulated CPUs than host cores</h2>
 * A spinning waiter is useful only while the holder runs. When simulated CPU threads outnumber
 * the host's cores the holder may be descheduled by the host, so a waiter spins at most
 * {@link #SPIN_LIMIT} iterations and then calls {@link Thread#yield()} between checks. The bound
 * follows the competitive-spinning rule (spin for about as long as giving up the core would
 * cost, then give it up: at most twice the optimal waste): measured on the 2-core AMD EPYC
 * development host with JDK 17, one {@code onSpinWait()} (PAUSE) takes about 18 ns and one
 * {@code Thread.yield()} about 1.4 us, so 256 spins (about 4.6 us there, a few yields' worth)
 * cover a DSQ critical section (well under 1 us: a list link or unlink and a few counters)
 * several times over before the waiter concludes the holder is not running. On hosts with a
 * slower PAUSE the bound is longer in time, which only delays the first yield.
 *
 * <p>Oversubscribed, strict FIFO is itself the problem: the lock is handed to the next ticket
 * even when that waiter's thread is not running, and nobody else may take it until the host runs
 * that thread again (lock-waiter preemption; with 256 CPU threads on 2 cores every hand-off waits
 * for a host scheduling round). The kernel has the same problem as a guest on an
 * oversubscribed hypervisor and answers it the same way on x86: {@code virt_spin_lock()} turns
 * the queued spinlock into a test-and-set lock. So a lock is created in one of two modes, fixed
 * for its life: <b>queued</b> (FIFO tickets, as above) while the simulated CPUs fit the host's
 * cores with one core to spare (for the harness, the JIT and GC threads, and whatever else the
 * host runs), and <b>test-and-set</b> otherwise ({@link #configureForCpus}, called by the
 * {@link Kernel} constructor): a waiter then only ever {@link #tryLock()}s, so whichever thread
 * is running takes the lock; it still spins, then yields, and never allocates or parks. The
 * spare core is not a guess: on the 2-core development host under other processes' load, two
 * CPU threads contending on one queued DSQ lock ran 16 times slower than on a test-and-set one
 * ({@code WakeupCycleBench twoCpus simple}, 0.074 against 1.172 ops/us), because the lock waited
 * for a next waiter that the host had descheduled.
 *
 * <h2>Implementation overview</h2>
 * Fields and their access modes:
 * <ul>
 *   <li>{@code next}: the ticket dispenser. Any thread, atomic add ({@code xaddNext}, queued
 *       mode) or CAS ({@code tryAcquire}: {@link #tryLock} and every acquisition in test-and-set
 *       mode, which therefore never has a ticket out beyond the holder's).
 *   <li>{@code owner}: the ticket now served. Written only by the holder, with a release store in
 *       {@link #unlock} that pairs with the load-acquire a waiter spins with ({@code laOwner}) and
 *       the one {@code tryAcquire} reads; that pair is the lock's happens-before edge.
 *   <li>{@code holder}: the thread holding the lock, for {@link #isHeldByCurrentThread()} and the
 *       unlock check. Plain: written by the holder after acquiring and cleared before releasing.
 *       A thread reading it sees either its own last write (itself, or null once it released) or
 *       some other thread's, never itself by mistake, which is all the two users need.
 * </ul>
 * Invariants: {@code owner} never passes {@code next} (mod 2^32); the lock is held iff
 * {@code next != owner}; {@code next - owner - 1} threads are waiting. Non-invariant: a waiter's
 * view of {@code owner} may be stale until it re-reads it.
 *
 * <p>Memory consistency effects: those of {@link KernelLock}; acquiring is at least an acquire,
 * releasing a release, as {@code spin_lock()}/{@code spin_unlock()} are in the kernel.
 */
public final class RawSpinLock implements KernelLock {
    /** The system property that forces a mode (see {@link #configureForCpus}). */
    public static final String MODE_PROPERTY = "scx.dsq_lock";

    /** Spins before a waiter starts yielding (see the class comment for the bound). */
    static final int SPIN_LIMIT = 1 << 8;

    /**
     * The mode of locks created from now on: queued unless the simulated CPUs leave no host core
     * spare (see the class comment). Volatile: written by {@link #configureForCpus}, read once per
     * lock, in the constructor.
     */
    private static volatile boolean queuedByDefault = true;

    /** Queued (FIFO tickets) or test-and-set; fixed for the lock's life. */
    private final boolean queued;
    @SuppressWarnings("unused")
    private volatile int next;
    @SuppressWarnings("unused")
    private volatile int owner;
    private Thread holder;

    /** A lock in the mode the last {@link #configureForCpus} chose (queued if never called). */
    public RawSpinLock() {
        this(queuedByDefault);
    }

    /** A lock in the given mode: queued (FIFO tickets) or test-and-set. */
    RawSpinLock(boolean queued) {
        this.queued = queued;
    }

    /**
     * Chooses the mode of the locks created from now on: queued while {@code simulatedCpus}
     * threads fit the host's cores with one to spare, test-and-set when they do not; the system property
     * {@value #MODE_PROPERTY} ({@code queued}, {@code test-and-set}, or {@code auto}, the default)
     * overrides the choice, for measurements and for hosts loaded by other work. A JVM runs one
     * machine at a time, so this is global, like the static keys.
     */
    public static void configureForCpus(int simulatedCpus) {
        String mode = System.getProperty(MODE_PROPERTY, "auto");
        if ("queued".equals(mode)) {
            queuedByDefault = true;
        } else if ("test-and-set".equals(mode)) {
            queuedByDefault = false;
        } else {
            // queued only if every CPU thread can own a core and one core is left for the rest
            queuedByDefault = simulatedCpus < Runtime.getRuntime().availableProcessors();
        }
    }

    /** Whether this lock hands over in FIFO order (queued mode). */
    public boolean isQueued() {
        return queued;
    }

    @Override
    public void lock() {
        if (!RacePoint.installed() || !RacePoint.hookAcquire(this)) {
            lockRaw();
        }
    }

    /** {@link #lock()} without the race point. */
    private void lockRaw() {
        Thread me = Thread.currentThread();
        if (Kernel.LOCKDEP && holder == me) {
            throw new IllegalStateException("recursive raw spin lock acquisition: " + this);
        }
        if (!queued) {
            lockTestAndSet();
        } else {
            int ticket = xaddNext();
            if (laOwner() != ticket) {
                waitForTurn(ticket);
            }
        }
        holder = me;
    }

    /** Test-and-set mode: spin, then yield, on a read, and try only when the lock looks free. */
    private void lockTestAndSet() {
        int spins = 0;
        while (!tryAcquire()) {
            if (spins < SPIN_LIMIT) {
                spins++;
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    /** The slow path, apart so that the fast path stays small enough to inline. */
    private void waitForTurn(int ticket) {
        int spins = 0;
        while (laOwner() != ticket) {
            if (spins < SPIN_LIMIT) {
                spins++;
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    @Override
    public boolean tryLock() {
        if (tryAcquire()) {
            holder = Thread.currentThread();
            return true;
        }
        return false;
    }

    private boolean tryAcquire() {
        int served = laOwner();
        // Free iff no ticket is out beyond the one served: then take that one. owner cannot move
        // between the load and the CAS unless a ticket was taken, which makes the CAS fail.
        return readOnceNext() == served && casNext(served, served + 1);
    }

    @Override
    public void unlock() {
        if (holder != Thread.currentThread()) {
            throw new IllegalMonitorStateException("raw spin lock not held by " + Thread.currentThread().getName());
        }
        holder = null;
        // Pairs with the load-acquire in lockRaw()/waitForTurn() and tryAcquire().
        soOwner((int) OWNER.get(this) + 1);
    }

    @Override
    public boolean isLocked() {
        return (int) NEXT.getVolatile(this) != (int) OWNER.getVolatile(this);
    }

    @Override
    public boolean isHeldByCurrentThread() {
        return holder == Thread.currentThread();
    }

    /** Threads waiting for the lock right now (racy: for dumps and tests). */
    public int queueLength() {
        int waiting = (int) NEXT.getVolatile(this) - (int) OWNER.getVolatile(this) - 1;
        return Math.max(waiting, 0);
    }

    @Override
    public String toString() {
        String state = isLocked() ? "locked, " + queueLength() + " waiting" : "unlocked";
        return "RawSpinLock[" + (queued ? "queued, " : "test-and-set, ") + state + "]";
    }

    private int xaddNext() {
        return (int) NEXT.getAndAdd(this, 1);
    }

    private int readOnceNext() {
        return (int) NEXT.getOpaque(this);
    }

    private boolean casNext(int expect, int update) {
        return NEXT.compareAndSet(this, expect, update);
    }

    private int laOwner() {
        return (int) OWNER.getAcquire(this);
    }

    private void soOwner(int v) {
        OWNER.setRelease(this, v);
    }

    // VarHandle mechanics
    private static final VarHandle NEXT;
    private static final VarHandle OWNER;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            NEXT = l.findVarHandle(RawSpinLock.class, "next", int.class);
            OWNER = l.findVarHandle(RawSpinLock.class, "owner", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
