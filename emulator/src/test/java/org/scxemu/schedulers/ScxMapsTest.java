// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.schedulers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.schedulers.SchedTestSupport.MS;
import static org.scxemu.scx.Scx.E2BIG;
import static org.scxemu.scx.Scx.ENOENT;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.scxemu.harness.Machine;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.Task;
import org.scxemu.scx.maps.PerCpuArray;
import org.scxemu.scx.maps.QueueMap;
import org.scxemu.scx.maps.TaskStorage;

/** The BPF map helpers on their own: QueueMap, TaskStorage, PerCpuArray. */
class ScxMapsTest {

    @Test
    void queueMapIsABoundedFifoOfU32() {
        QueueMap q = new QueueMap(4);
        assertEquals(-ENOENT, q.pop());
        assertEquals(-ENOENT, q.peek());
        assertEquals(0, q.push(1));
        assertEquals(0, q.push(-1)); // u32 0xffffffff
        assertEquals(0, q.pushBoxed(300));
        assertEquals(0, q.push(4));
        assertEquals(-E2BIG, q.push(5), "push onto a full queue");
        assertEquals(4, q.size());
        assertEquals(1, q.peek());
        assertEquals(1, q.pop());
        assertEquals(0xffffffffL, q.pop());
        assertEquals(300, q.pop());
        assertEquals(0, q.push(5));
        assertEquals(4, q.pop());
        assertEquals(5, q.pop());
        assertEquals(-ENOENT, q.pop());
        assertThrows(IllegalArgumentException.class, () -> new QueueMap(4095));
        assertThrows(IllegalArgumentException.class, () -> new QueueMap(1));
    }

    /** Two producers and two consumers: every value pushed is popped exactly once. */
    @Test
    void queueMapLosesAndDuplicatesNothingUnderConcurrency() throws InterruptedException {
        QueueMap q = new QueueMap(64);
        int perProducer = 20_000;
        AtomicLong sum = new AtomicLong();
        AtomicLong count = new AtomicLong();
        CountDownLatch producersDone = new CountDownLatch(2);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            int base = t * perProducer;
            threads.add(new Thread(() -> {
                for (int i = 1; i <= perProducer; i++) {
                    while (q.push(base + i) != 0) {
                        Thread.yield(); // full: the host may have fewer cores than threads here
                    }
                }
                producersDone.countDown();
            }));
            threads.add(new Thread(() -> {
                for (;;) {
                    long v = q.pop();
                    if (v >= 0) {
                        sum.addAndGet(v);
                        count.incrementAndGet();
                    } else if (producersDone.getCount() == 0 && q.size() == 0) {
                        return;
                    } else {
                        Thread.yield();
                    }
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join(60_000);
        }
        long n = 2L * perProducer;
        assertEquals(n, count.get());
        assertEquals(n * (n + 1) / 2, sum.get());
    }

    @Test
    void taskStorageIsPerTaskAndFindsLiveTasksByPid() {
        try (Machine m = Machine.threaded(2)) {
            // no scheduler loaded and no CPU threads yet: tasks are created but do not run
            List<Task> tasks = new ArrayList<>();
            for (int i = 0; i < 2100; i++) { // more than two slot chunks
                tasks.add(m.kernel().fork(new Kernel.TaskSpec().comm("t" + i)));
            }
            TaskStorage<int[]> stor = new TaskStorage<>();
            Task a = tasks.get(0);
            Task z = tasks.get(2099);
            assertNull(stor.get(a));
            assertNull(stor.taskOf(a.pid));
            int[] va = stor.getOrCreate(a, p -> new int[] {p.pid});
            assertSame(va, stor.getOrCreate(a, p -> new int[] {-1}), "created twice");
            assertSame(va, stor.get(a));
            assertSame(a, stor.taskOf(a.pid));
            assertNull(stor.get(z));
            for (Task t : tasks) {
                stor.getOrCreate(t, p -> new int[] {p.pid});
            }
            for (Task t : tasks) {
                assertEquals(t.pid, stor.get(t)[0]);
                assertSame(t, stor.taskOf(t.pid));
            }
            assertTrue(stor.delete(z));
            assertTrue(!stor.delete(z));
            assertNull(stor.get(z));
            assertNull(stor.taskOf(z.pid));
            assertNull(stor.taskOf(-1));
            assertNull(stor.taskOf(1 << 30));
        }
    }

    @Test
    void taskStorageForgetsDeadTasks() {
        try (Machine m = Machine.threaded(2)) {
            m.start();
            Task t = m.kernel().fork(new Kernel.TaskSpec().comm("brief")
                    .behavior(SchedTestSupport.shortLived(100_000L, 1)));
            TaskStorage<Object> stor = new TaskStorage<>();
            stor.getOrCreate(t, p -> new Object());
            long end = System.nanoTime() + 5_000 * MS;
            while (!t.isDead() && System.nanoTime() < end) {
                m.runFor(5 * MS);
            }
            assertTrue(t.isDead());
            assertNull(stor.taskOf(t.pid), "bpf_task_from_pid() of a dead task");
        }
    }

    @Test
    void perCpuArrayRowsAreIndependent() {
        PerCpuArray a = new PerCpuArray(4, 2);
        a.setOpaque(0, 0, 5);
        a.setOpaque(3, 0, 7);
        a.setOpaque(3, 1, 11);
        assertEquals(5, a.get(0, 0));
        assertEquals(0, a.get(1, 0));
        assertEquals(7, a.getOpaque(3, 0));
        assertEquals(11, a.get(3, 1));
        assertEquals(12, a.sum(0));
        assertEquals(11, a.sum(1));
        assertThrows(IndexOutOfBoundsException.class, () -> a.get(4, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> a.get(0, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> a.get(-1, 0));
    }
}
