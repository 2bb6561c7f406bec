// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The kernel's {@code raw_spinlock_t} for the DSQ locks: a FIFO ticket spin lock. A waiter never
 * sleeps and never allocates: it takes a ticket with one atomic add and spins
 * ({@link Thread#onSpinWait()}) until the lock's "now serving" counter reaches it, so under
 * contention the lock passes to waiters strictly in arrival order, as the kernel's queued
 * spinlock (and the ticket spinlock before it) does. The uncontended cost is one atomic add and
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
 * the host's cores the holder (or the next ticket's owner) may be descheduled by the host, and
 * spinning then only burns the core it needs. So a waiter spins at most {@link #SPIN_LIMIT}
 * iterations and then calls {@link Thread#yield()} between checks. The bound follows the
 * competitive-spinning rule (spin for about as long as giving up the core would cost, then give
 * it up: at most twice the optimal waste): measured on the 2-core AMD EPYC development host with
 * JDK 17, one {@code onSpinWait()} (PAUSE) takes about 18 ns and one {@code Thread.yield()} about
 * 1.4 us, so 256 spins (about 4.6 us there, 2 to 4 yields' worth) cover a DSQ critical section
 * (well under 1 us: a list link or unlink and a few counters) several times over, including the
 * one waiter ahead of us that a 2-thread contention pattern can have, before the waiter concludes
 * the holder is not running. On hosts with a slower PAUSE the bound is longer in time, which only
 * delays the first yield. A waiter that yields keeps its ticket, so FIFO order is kept.
 *
 * <h2>Implementation overview</h2>
 * Fields and their access modes:
 * <ul>
 *   <li>{@code next}: the ticket dispenser. Any thread, atomic add ({@code xaddNext}) or CAS
 *       ({@link #tryLock}).
 *   <li>{@code owner}: the ticket now served. Written only by the holder, with a release store in
 *       {@link #unlock} that pairs with the load-acquire a waiter spins with ({@code laOwner}) and
 *       the one {@link #tryLock} reads; that pair is the lock's happens-before edge.
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
    /** Spins before a waiter starts yielding (see the class comment for the bound). */
    static final int SPIN_LIMIT = 1 << 8;

    @SuppressWarnings("unused")
    private volatile int next;
    @SuppressWarnings("unused")
    private volatile int owner;
    private Thread holder;

    @Override
    public void lock() {
        if (RacePoint.installed()) {
            RacePoint.lock(this);
        } else {
            lockRaw();
        }
    }

    /** {@link #lock()} without the race point (a hook's fallback). */
    void lockRaw() {
        Thread me = Thread.currentThread();
        if (Kernel.LOCKDEP && holder == me) {
            throw new IllegalStateException("recursive raw spin lock acquisition: " + this);
        }
        int ticket = xaddNext();
        if (laOwner() != ticket) {
            waitForTurn(ticket);
        }
        holder = me;
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
        int served = laOwner();
        // Free iff no ticket is out beyond the one served: then take that one. owner cannot move
        // between the load and the CAS unless a ticket was taken, which makes the CAS fail.
        if (readOnceNext() == served && casNext(served, served + 1)) {
            holder = Thread.currentThread();
            return true;
        }
        return false;
    }

    @Override
    public void unlock() {
        if (holder != Thread.currentThread()) {
            throw new IllegalMonitorStateException("raw spin lock not held by " + Thread.currentThread().getName());
        }
        holder = null;
        // Pairs with the load-acquire in waitForTurn()/lockRaw() and tryLock().
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
        return "RawSpinLock[" + (isLocked() ? "locked, " + queueLength() + " waiting" : "unlocked") + "]";
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
