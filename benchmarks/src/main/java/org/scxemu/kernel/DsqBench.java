// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.jctools.queues.MpscArrayQueue;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.scxemu.scx.Scx;

/**
 * The local DSQ's insert/consume pair against the two physical anchors for a queue on this JVM.
 *
 * <p>One operation inserts a task at the tail and removes the head, on a queue that already holds
 * {@link #depth} tasks, from one thread (the CPU that owns a local DSQ is its only user, under its
 * rq lock). {@link #impl}:
 * <ul>
 *   <li>{@code dsq}: {@link Dsq#linkTail} and {@link Dsq#unlink} of the head, the intrusive list
 *       threaded through {@code p->scx} that {@code dispatch_enqueue()} and
 *       {@code consume_local_task()} use, on a local DSQ (its lock is the rq lock, which the kernel
 *       holds across the whole pick, so it is not taken per operation here);
 *   <li>{@code mpsc}: JCTools {@code MpscArrayQueue} {@code offer}/{@code poll}, the lock-free
 *       bounded queue (the fastest array queue a producer and consumer can share);
 *   <li>{@code lockedDeque}: an {@code ArrayDeque} with a {@code ReentrantLock} taken around each
 *       {@code addLast} and {@code pollFirst}, the obvious locked queue.
 * </ul>
 * The tasks are real {@link Task}s forked on a kernel with no scheduler loaded; the DSQ is a
 * detached local DSQ of CPU 0 (the kernel's own is not touched). None of the three should allocate.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar DsqBench -prof gc}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED")
@State(Scope.Thread)
public class DsqBench {
    @Param({"dsq", "mpsc", "lockedDeque"})
    public String impl;

    /** Tasks already queued when an operation starts. */
    @Param({"0", "8"})
    public int depth;

    private Kernel kernel;
    private Task[] tasks;
    private int next;
    /** The implementation under test; one per JVM, so the call is monomorphic and inlined. */
    private Anchor queue;

    /** One insert at the tail and one removal from the head. */
    private abstract static class Anchor {
        abstract Task insertConsume(Task p);

        abstract void insert(Task p);

        abstract int size();
    }

    private static final class DsqAnchor extends Anchor {
        final Dsq dsq;

        DsqAnchor(Dsq dsq) {
            this.dsq = dsq;
        }

        @Override
        Task insertConsume(Task p) {
            dsq.linkTail(p);
            Task head = dsq.first();
            dsq.unlink(head);
            return head;
        }

        @Override
        void insert(Task p) {
            dsq.linkTail(p);
        }

        @Override
        int size() {
            return dsq.lpNr();
        }
    }

    private static final class MpscAnchor extends Anchor {
        final MpscArrayQueue<Task> q = new MpscArrayQueue<>(64);

        @Override
        Task insertConsume(Task p) {
            q.offer(p);
            return q.poll();
        }

        @Override
        void insert(Task p) {
            q.offer(p);
        }

        @Override
        int size() {
            return q.size();
        }
    }

    private static final class LockedDequeAnchor extends Anchor {
        final ArrayDeque<Task> q = new ArrayDeque<>(64);
        final ReentrantLock lock = new ReentrantLock();

        @Override
        Task insertConsume(Task p) {
            lock.lock();
            try {
                q.addLast(p);
            } finally {
                lock.unlock();
            }
            lock.lock();
            try {
                return q.pollFirst();
            } finally {
                lock.unlock();
            }
        }

        @Override
        void insert(Task p) {
            q.addLast(p);
        }

        @Override
        int size() {
            return q.size();
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        kernel = new Kernel(1, new Clock.Manual());
        tasks = new Task[depth + 1];
        for (int i = 0; i < tasks.length; i++) {
            tasks[i] = kernel.fork(new Kernel.TaskSpec().comm("t" + i).behavior(Behavior.cpuBound(1000)));
        }
        switch (impl) {
            case "dsq":
                queue = new DsqAnchor(new Dsq(Scx.SCX_DSQ_LOCAL, kernel.rq(0)));
                break;
            case "mpsc":
                queue = new MpscAnchor();
                break;
            case "lockedDeque":
                queue = new LockedDequeAnchor();
                break;
            default:
                throw new IllegalArgumentException("unknown impl: " + impl);
        }
        // Queue the first depth tasks; tasks[depth] is the one inserted by the first operation.
        for (int i = 0; i < depth; i++) {
            queue.insert(tasks[i]);
        }
        next = depth;
    }

    /** The task the next operation inserts: the one the previous operation removed. */
    private Task nextTask() {
        Task p = tasks[next];
        next = next == depth ? 0 : next + 1;
        return p;
    }

    @Benchmark
    public Task insertConsume() {
        return queue.insertConsume(nextTask());
    }

    @TearDown(Level.Trial)
    public void check() {
        int n = queue.size();
        if (n != depth) {
            throw new IllegalStateException(impl + ": " + n + " tasks queued at the end, expected " + depth);
        }
        kernel.stop();
    }
}
