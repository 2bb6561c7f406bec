// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.bpf;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentHashMap;
import org.scxemu.kernel.Task;

/**
 * The single address space a loaded BPF object runs in. A BPF pointer is a 64-bit value whose
 * upper 32 bits name a <em>region</em> and whose lower 32 bits are the signed byte offset in it
 * (so {@code ptr - 8} of a region's start is out of bounds of that region, not in the one before); region 0
 * is NULL, so a NULL test and pointer arithmetic work as in the kernel, and a pointer survives
 * being spilled to the stack or stored in a map (it is only a number).
 *
 * <p>A region is either bytes (a global section, one map value, a thread's BPF stack, a string
 * the kernel hands over) or a kernel object seen through {@link KernelTypes} (a task, a cpumask,
 * a map, a timer, a program entry used as a callback). Every access is checked against its
 * region; a failed check is a {@link BpfFault}.
 *
 * <p>Memory model (what a BPF program on one CPU thread sees of another's writes): a plain BPF
 * load or store of a shared region is an <em>opaque</em> access when aligned (single-copy atomic
 * and never hoisted out of a loop, with no ordering: the kernel's plain access on its
 * architectures; see the spec's "Memory" notes), a plain access when misaligned; the stack is
 * owned by one thread and accessed plainly. BPF atomics ({@code BPF_ATOMIC}: add/and/or/xor with
 * and without fetch, xchg, cmpxchg) are the VarHandle volatile read-modify-writes: sequentially
 * consistent, which is what the kernel's fully ordered fetch atomics promise (the non-fetch forms
 * are weaker in the kernel; making them stronger cannot add a behaviour). They require natural
 * alignment, as the verifier does.
 *
 * <p>The region table is written under {@code this} lock (registration) and read without it
 * through the volatile {@link #table} reference: a region published by {@link #register} is
 * complete before its id can be read by any thread that reads the new table (release by the
 * volatile write, acquire by the volatile read in {@link #region}).
 */
final class Memory {
    /** A region of the address space. */
    abstract static class Region {
        int id;
        final String name;

        Region(String name) {
            this.name = name;
        }

        /** The region's size in bytes (for bounds checks and messages). */
        abstract int size();
    }

    /** Bytes: {@code data[base .. base+len)}. */
    static final class Bytes extends Region {
        final byte[] data;
        final int base;
        final int len;
        final boolean readOnly;
        /** Other threads may access it concurrently: plain BPF accesses are opaque. */
        final boolean shared;
        /** For a map value: its key (a timer callback's second argument), else null. */
        byte[] key;

        Bytes(String name, byte[] data, int base, int len, boolean readOnly, boolean shared) {
            super(name);
            this.data = data;
            this.base = base;
            this.len = len;
            this.readOnly = readOnly;
            this.shared = shared;
        }

        @Override
        int size() {
            return len;
        }
    }

    /** A kernel object: a task, a map, a cpumask source, a timer, a callback. */
    static final class Obj extends Region {
        final Object obj;
        final int size;

        Obj(String name, Object obj, int size) {
            super(name);
            this.obj = obj;
            this.size = size;
        }

        @Override
        int size() {
            return size;
        }
    }

    /** A program entry used as a value (a timer or bpf_loop() callback). */
    record Func(int insn, String name) {
    }

    /** A live cpumask the kernel owns (scx_bpf_get_idle_cpumask() and friends). */
    enum MaskSource { IDLE, ONLINE, POSSIBLE }

    private volatile Region[] table = new Region[1024];
    private int next = 1; // guarded by this
    private final ArrayDeque<Integer> free = new ArrayDeque<>(); // guarded by this
    private final ConcurrentHashMap<Task, Obj> tasks = new ConcurrentHashMap<>();

    static long ptr(Region r, long off) {
        return ((long) r.id << 32) + off;
    }

    synchronized int register(Region r) {
        int id;
        if (!free.isEmpty()) {
            id = free.poll();
        } else {
            id = next++;
            if (id >= table.length) {
                Region[] t = new Region[table.length * 2];
                System.arraycopy(table, 0, t, 0, table.length);
                t[id] = r;
                r.id = id;
                table = t;
                return id;
            }
        }
        r.id = id;
        Region[] t = table;
        t[id] = r;
        table = t; // volatile write: publishes the slot (pairs with the volatile read in region())
        return id;
    }

    /** Frees a region's id for reuse (a deleted hash element). A stale pointer to it then faults. */
    synchronized void unregister(Region r) {
        Region[] t = table;
        if (r.id > 0 && r.id < t.length && t[r.id] == r) {
            t[r.id] = null;
            table = t;
            free.add(r.id);
        }
    }

    /** A pointer into region 0: NULL, or NULL plus a field offset. */
    static boolean isNull(long p) {
        return ((p + 0x8000_0000L) >>> 32) == 0;
    }

    /** The region {@code p} points into, or null (NULL or a dangling pointer). */
    Region region(long p) {
        // the offset is signed: a pointer moved below its region's start stays in that region
        long id = (p + 0x8000_0000L) >>> 32;
        Region[] t = table;
        return id > 0 && id < t.length ? t[(int) id] : null;
    }

    /** The pointer to a task (registered on first sight; tasks stay for the object's lifetime). */
    long taskPtr(Task t) {
        if (t == null) {
            return 0;
        }
        Obj o = tasks.get(t);
        if (o == null) {
            o = tasks.computeIfAbsent(t, k -> {
                Obj n = new Obj("task_struct", k, KernelTypes.TASK.size);
                register(n);
                return n;
            });
        }
        return ptr(o, 0);
    }

    Bytes newBytes(String name, int size, boolean readOnly, boolean shared) {
        Bytes b = new Bytes(name, new byte[size], 0, size, readOnly, shared);
        register(b);
        return b;
    }

    /** A read-only NUL-terminated copy of {@code s}, for strings the kernel passes (exit reason). */
    long string(String name, String s) {
        byte[] b = (s == null ? "" : s).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] d = new byte[b.length + 1];
        System.arraycopy(b, 0, d, 0, b.length);
        Bytes r = new Bytes(name, d, 0, d.length, true, false);
        register(r);
        return ptr(r, 0);
    }

    // --- checked byte access ----------------------------------------------------------------------

    /** The bytes region behind {@code p} with {@code size} bytes in bounds, else a fault. */
    Bytes bytesAt(long p, int size, String what) {
        Region r = region(p);
        if (r == null) {
            throw BpfFault.of(isNull(p) ? "NULL pointer " + what
                    : "invalid pointer 0x" + Long.toHexString(p) + " " + what);
        }
        if (!(r instanceof Bytes)) {
            throw BpfFault.of(what + " through a pointer to " + r.name + ", which is not memory");
        }
        long off = (int) p;
        if (off < 0 || off + size > r.size()) {
            throw BpfFault.of("out-of-bounds " + what + " of " + size + " bytes at offset " + off + " of " + r.name
                    + " (" + r.size() + " bytes)");
        }
        return (Bytes) r;
    }

    long loadBytes(Bytes b, int off, int size) {
        int i = b.base + off;
        byte[] d = b.data;
        boolean op = b.shared && (i & (size - 1)) == 0;
        switch (size) {
            case 1:
                return (op ? (byte) BYTE.getOpaque(d, i) : d[i]) & 0xffL;
            case 2:
                return (op ? (short) SHORT.getOpaque(d, i) : (short) SHORT.get(d, i)) & 0xffffL;
            case 4:
                return (op ? (int) INT.getOpaque(d, i) : (int) INT.get(d, i)) & 0xffffffffL;
            default:
                return op ? (long) LONG.getOpaque(d, i) : (long) LONG.get(d, i);
        }
    }

    void storeBytes(Bytes b, int off, int size, long v) {
        int i = b.base + off;
        byte[] d = b.data;
        boolean op = b.shared && (i & (size - 1)) == 0;
        switch (size) {
            case 1:
                if (op) {
                    BYTE.setOpaque(d, i, (byte) v);
                } else {
                    d[i] = (byte) v;
                }
                break;
            case 2:
                if (op) {
                    SHORT.setOpaque(d, i, (short) v);
                } else {
                    SHORT.set(d, i, (short) v);
                }
                break;
            case 4:
                if (op) {
                    INT.setOpaque(d, i, (int) v);
                } else {
                    INT.set(d, i, (int) v);
                }
                break;
            default:
                if (op) {
                    LONG.setOpaque(d, i, v);
                } else {
                    LONG.set(d, i, v);
                }
                break;
        }
    }

    /** Copies {@code n} bytes out of BPF memory (a key, a value), checked. */
    byte[] read(long p, int n, String what) {
        Bytes b = bytesAt(p, n, what);
        byte[] out = new byte[n];
        System.arraycopy(b.data, b.base + (int) p, out, 0, n);
        return out;
    }

    /** Copies {@code src} into BPF memory, checked; refuses read-only memory. */
    void write(long p, byte[] src, int n, String what) {
        Bytes b = bytesAt(p, n, what);
        if (b.readOnly) {
            throw BpfFault.of(what + " into read-only " + b.name);
        }
        System.arraycopy(src, 0, b.data, b.base + (int) p, n);
    }

    /** A NUL-terminated string at {@code p}, at most {@code max} bytes. */
    String cString(long p, int max, String what) {
        Bytes b = bytesAt(p, 1, what);
        int off = (int) p;
        int end = off;
        int limit = Math.min(b.len, off + max);
        while (end < limit && b.data[b.base + end] != 0) {
            end++;
        }
        return new String(b.data, b.base + off, end - off, java.nio.charset.StandardCharsets.UTF_8);
    }

    // VarHandle mechanics
    static final VarHandle BYTE = MethodHandles.arrayElementVarHandle(byte[].class);
    static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
}
