// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.scx.maps;

import static org.scxemu.scx.Scx.E2BIG;
import static org.scxemu.scx.Scx.ENOENT;

import org.jctools.queues.MpmcArrayQueue;

/**
 * {@code BPF_MAP_TYPE_QUEUE} with {@code __type(value, u32)}: a bounded FIFO of 32-bit values
 * shared by every CPU, as {@code scx_qmap}'s {@code queue0..4} are.
 *
 * <p>The BPF helpers and their Java forms:
 * <ul>
 *   <li>{@code bpf_map_push_elem(map, &v, 0)}: {@link #push(int)}: 0, or {@code -E2BIG} when the
 *       queue already holds {@code max_entries} values (the kernel's
 *       {@code queue_stack_map_push_elem()} without {@code BPF_EXIST}: nothing is overwritten);
 *   <li>{@code bpf_map_pop_elem(map, &v)}: {@link #pop()}: the oldest value, or {@code -ENOENT}
 *       when the queue is empty;
 *   <li>{@code bpf_map_peek_elem(map, &v)}: {@link #peek()}.
 * </ul>
 * Values are u32: {@link #pop()} and {@link #peek()} return them zero-extended to a {@code long}
 * ({@code 0 .. 0xffffffff}), so a negative result is always an errno.
 *
 * <p>Built on JCTools' {@link MpmcArrayQueue}: lock-free for any number of producers and
 * consumers, and strict, not relaxed: a push fails only if the queue is full and a pop returns
 * {@code -ENOENT} only if it is empty at some point during the call. {@code max_entries} must be a
 * power of two (JCTools rounds the capacity up otherwise, which would change when a push fails).
 *
 * <p>Hot path: {@link #pushBoxed(Integer)} and {@link #pop()} allocate nothing; {@link #push(int)}
 * boxes values outside the {@code Integer} cache. A caller that pushes the same value many times
 * (a task's pid) keeps it boxed once and uses {@link #pushBoxed(Integer)}.
 *
 * <p>Memory consistency effects: actions in a thread prior to pushing a value
 * <i>happen-before</i> actions subsequent to the pop or peek that returns that value in another
 * thread.
 */
public final class QueueMap {
    /*
     * Implementation overview: the queue is JCTools' MpmcArrayQueue (a bounded Vyukov MPMC queue
     * over a sequence array); every shared field lives inside it and is accessed with its own
     * release/acquire protocol. This class adds only the u32 <-> errno encoding and the final
     * maxEntries. Invariant: 0 <= size() <= maxEntries.
     */

    private final MpmcArrayQueue<Integer> q;
    private final int maxEntries;

    /**
     * A queue map of {@code maxEntries} values (BPF's {@code max_entries}).
     *
     * @param maxEntries a power of two, at least 2
     */
    public QueueMap(int maxEntries) {
        if (maxEntries < 2 || Integer.bitCount(maxEntries) != 1) {
            throw new IllegalArgumentException("max_entries must be a power of two >= 2, got " + maxEntries);
        }
        this.maxEntries = maxEntries;
        this.q = new MpmcArrayQueue<>(maxEntries);
    }

    /** {@code max_entries} */
    public int maxEntries() {
        return maxEntries;
    }

    /** bpf_map_push_elem(map, &value, 0): 0, or -E2BIG if the queue is full. */
    public int push(int value) {
        return q.offer(value) ? 0 : -E2BIG;
    }

    /**
     * bpf_map_push_elem(map, &value, 0) for a value the caller keeps boxed: as {@link #push(int)}
     * without the boxing allocation.
     */
    public int pushBoxed(Integer value) {
        if (value == null) {
            throw new NullPointerException("value");
        }
        return q.offer(value) ? 0 : -E2BIG;
    }

    /** bpf_map_pop_elem(map, &value): the oldest value as an unsigned 32-bit number, or -ENOENT. */
    public long pop() {
        Integer v = q.poll();
        return v == null ? -ENOENT : Integer.toUnsignedLong(v);
    }

    /** bpf_map_peek_elem(map, &value): the oldest value without removing it, or -ENOENT. */
    public long peek() {
        Integer v = q.peek();
        return v == null ? -ENOENT : Integer.toUnsignedLong(v);
    }

    /** The number of values queued; exact only while no push or pop runs concurrently. */
    public int size() {
        return q.size();
    }
}
