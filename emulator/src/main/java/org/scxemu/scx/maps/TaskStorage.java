// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.scx.maps;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.scxemu.kernel.Task;

/**
 * {@code BPF_MAP_TYPE_TASK_STORAGE} with {@code BPF_F_NO_PREALLOC}: one value of type {@code V}
 * per task, created on demand (typically from the sleepable {@code ops.init_task()}) and looked
 * up from any op.
 *
 * <p>The BPF helpers and their Java forms:
 * <ul>
 *   <li>{@code bpf_task_storage_get(&map, p, 0, 0)}: {@link #get(Task)}, null if the task has no
 *       value;
 *   <li>{@code bpf_task_storage_get(&map, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE)}:
 *       {@link #getOrCreate(Task, Function)};
 *   <li>{@code bpf_task_storage_delete(&map, p)}: {@link #delete(Task)}.
 * </ul>
 * The kernel frees a task's storage together with the task. Here the value of a task that has
 * died ({@link Task#isDead()}) is dropped lazily: every {@link #getOrCreate} sweeps a few slots,
 * so no dead task stays referenced for long once new tasks keep arriving.
 *
 * <p>{@link #taskOf(int)} finds the live task that owns a value by pid. It is what a Java port
 * needs to stand in for {@code bpf_task_from_pid()} when every task it queues by pid has storage
 * in this map (as in {@code scx_qmap}, whose {@code ops.init_task()} creates it for all).
 *
 * <p>Lookups are lock-free and allocate nothing; creation allocates one small entry (and, every
 * 1024 pids, a slot chunk).
 *
 * <p>Memory consistency effects: actions in a thread prior to {@link #getOrCreate} installing a
 * value <i>happen-before</i> actions subsequent to a {@link #get} or {@link #taskOf} that sees it in
 * another thread. The value's own mutable state is not guarded by the map: as in BPF, the
 * scheduler relies on the kernel's locks (typically the task's rq lock) or uses atomics.
 */
public final class TaskStorage<V> {
    /*
     * Implementation overview.
     *
     * A two-level table indexed by pid: dir[pid >>> CHUNK_SHIFT][pid & CHUNK_MASK] holds an
     * immutable Entry(task, value) or null. The Task reference in the entry is the key: a slot
     * whose entry belongs to another Task object (a pid reused by another kernel instance) reads
     * as empty and is replaced on creation.
     *
     * Fields and access modes:
     *   dir      volatile; replaced (copy-on-grow) only under growLock. Its slots (chunk pointers)
     *            are written under growLock with release, read lock-free with acquire.
     *   chunk    slots hold Entry references: read with acquire, written with CAS (volatile
     *            semantics) by any thread. The CAS publishes the entry's final fields and
     *            everything the creator did before (pairs with the acquire loads in get/taskOf).
     *   sweepCursor  any thread, getAndAdd.
     *
     * Invariants: a chunk, once installed, is never removed or moved (growth copies the chunk
     * pointers, all under growLock, so no installation is lost); an entry is never mutated.
     * Not an invariant: that a dead task's entry is gone (the sweep is lazy).
     */

    private static final int CHUNK_SHIFT = 10;
    private static final int CHUNK_SIZE = 1 << CHUNK_SHIFT;
    private static final int CHUNK_MASK = CHUNK_SIZE - 1;
    /** Slots checked for dead tasks per creation. */
    private static final int SWEEP_PER_CREATE = 4;

    private static final class Entry<V> {
        final Task task;
        final V value;

        Entry(Task task, V value) {
            this.task = task;
            this.value = value;
        }
    }

    private final Object growLock = new Object();
    /** The chunk directory: Object[] of Object[] chunks; see the implementation overview. */
    private volatile Object[] dir = new Object[1];
    private final AtomicInteger sweepCursor = new AtomicInteger();

    /** bpf_task_storage_get(&map, p, 0, 0): the task's value, or null. */
    public V get(Task p) {
        Entry<V> e = laEntry(p.pid);
        return e != null && e.task == p ? e.value : null;
    }

    /**
     * bpf_task_storage_get(&map, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE): the task's value, created
     * with {@code init} if it has none. If two threads create for the same task at once, one
     * value wins and both get it.
     */
    public V getOrCreate(Task p, Function<? super Task, ? extends V> init) {
        Objects.requireNonNull(init, "init");
        Object[] chunk = chunkForCreate(p.pid);
        int i = p.pid & CHUNK_MASK;
        Entry<V> created = null;
        try {
            for (;;) {
                Entry<V> e = laSlot(chunk, i);
                if (e != null && e.task == p) {
                    return e.value;
                }
                if (created == null) {
                    created = new Entry<>(p, Objects.requireNonNull(init.apply(p), "init returned null"));
                }
                // an empty slot, or a stale entry of another task object with this pid
                if (casSlot(chunk, i, e, created)) {
                    return created.value;
                }
            }
        } finally {
            sweep();
        }
    }

    /** bpf_task_storage_delete(&map, p): true if the task had a value. */
    public boolean delete(Task p) {
        Object[] chunk = laChunk(p.pid);
        if (chunk == null) {
            return false;
        }
        int i = p.pid & CHUNK_MASK;
        for (;;) {
            Entry<V> e = laSlot(chunk, i);
            if (e == null || e.task != p) {
                return false;
            }
            if (casSlot(chunk, i, e, null)) {
                return true;
            }
        }
    }

    /**
     * The live task with pid {@code pid} that has a value in this map, or null (no such task, or
     * it has died). See the class comment for its use as {@code bpf_task_from_pid()}.
     */
    public Task taskOf(int pid) {
        Entry<V> e = laEntry(pid);
        if (e == null) {
            return null;
        }
        if (e.task.isDead()) {
            Object[] chunk = laChunk(pid);
            casSlot(chunk, pid & CHUNK_MASK, e, null);
            return null;
        }
        return e.task;
    }

    // --- internals --------------------------------------------------------------------------------

    private Entry<V> laEntry(int pid) {
        if (pid < 0) {
            return null;
        }
        Object[] chunk = laChunk(pid);
        return chunk == null ? null : laSlot(chunk, pid & CHUNK_MASK);
    }

    /** The chunk holding {@code pid}'s slot, or null if none was installed yet. */
    private Object[] laChunk(int pid) {
        Object[] d = dir;
        int ci = pid >>> CHUNK_SHIFT;
        return ci < d.length ? (Object[]) SLOT.getAcquire(d, ci) : null;
    }

    /** The chunk holding {@code pid}'s slot, installed (and the directory grown) if needed. */
    private Object[] chunkForCreate(int pid) {
        if (pid < 0) {
            throw new IllegalArgumentException("negative pid " + pid);
        }
        Object[] chunk = laChunk(pid);
        if (chunk != null) {
            return chunk;
        }
        synchronized (growLock) {
            int ci = pid >>> CHUNK_SHIFT;
            Object[] d = dir;
            if (ci >= d.length) {
                Object[] nd = new Object[Math.max(ci + 1, d.length * 2)];
                System.arraycopy(d, 0, nd, 0, d.length);
                // volatile store: publishes the copied chunk pointers (readers load dir volatile)
                dir = nd;
                d = nd;
            }
            chunk = (Object[]) SLOT.getAcquire(d, ci);
            if (chunk == null) {
                chunk = new Object[CHUNK_SIZE];
                // pairs with the getAcquire() in laChunk()
                SLOT.setRelease(d, ci, chunk);
            }
            return chunk;
        }
    }

    /** Drops the entries of dead tasks from the next few slots, round-robin over the table. */
    private void sweep() {
        Object[] d = dir;
        int limit = d.length << CHUNK_SHIFT;
        int start = Math.floorMod(sweepCursor.getAndAdd(SWEEP_PER_CREATE), limit);
        for (int k = 0; k < SWEEP_PER_CREATE; k++) {
            int slot = (start + k) % limit;
            Object[] chunk = (Object[]) SLOT.getAcquire(d, slot >>> CHUNK_SHIFT);
            if (chunk == null) {
                continue;
            }
            int i = slot & CHUNK_MASK;
            Entry<V> e = laSlot(chunk, i);
            if (e != null && e.task.isDead()) {
                casSlot(chunk, i, e, null); // losing the race to a re-creation is fine
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static <V> Entry<V> laSlot(Object[] chunk, int i) {
        return (Entry<V>) SLOT.getAcquire(chunk, i);
    }

    private static <V> boolean casSlot(Object[] chunk, int i, Entry<V> expect, Entry<V> update) {
        return SLOT.compareAndSet(chunk, i, expect, update);
    }

    // VarHandle mechanics
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Object[].class);
}
