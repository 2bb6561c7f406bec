// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.bpf;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.scxemu.kernel.Task;

/**
 * A BPF map of the object: its definition from {@code .maps} and its contents. Each value lives in
 * its own {@link Memory.Bytes} region, so a pointer returned by a lookup is bounds-checked against
 * exactly that value. Values are shared by all CPU threads (see {@link Memory} for the access
 * modes); the map structure itself is guarded per type as the kernel's is: arrays are fixed,
 * hash and task storage are concurrent maps (the kernel's RCU hash tables), the queue is a deque
 * under its own lock (the kernel's raw spinlock).
 */
abstract class BpfMap {
    static final int HASH = 1;
    static final int ARRAY = 2;
    static final int PERCPU_ARRAY = 6;
    static final int ARRAY_OF_MAPS = 12;
    static final int HASH_OF_MAPS = 13;
    static final int QUEUE = 22;
    static final int STACK = 23;
    static final int TASK_STORAGE = 29;

    static final int BPF_ANY = 0;
    static final int BPF_NOEXIST = 1;
    static final int BPF_EXIST = 2;

    static final int ENOENT = 2;
    static final int E2BIG = 7;
    static final int EINVAL = 22;
    static final int EEXIST = 17;
    static final int ENOTSUPP = 524;

    final String name;
    final int type;
    final int keySize;
    final int valueSize;
    final int maxEntries;
    final long flags;
    final Memory mem;
    /** The map as a pointer (what {@code &map} loads). */
    long selfPtr;

    BpfMap(Memory mem, String name, int type, int keySize, int valueSize, int maxEntries, long flags) {
        this.mem = mem;
        this.name = name;
        this.type = type;
        this.keySize = keySize;
        this.valueSize = valueSize;
        this.maxEntries = maxEntries;
        this.flags = flags;
    }

    static String typeName(int type) {
        switch (type) {
            case HASH:
                return "HASH";
            case ARRAY:
                return "ARRAY";
            case PERCPU_ARRAY:
                return "PERCPU_ARRAY";
            case ARRAY_OF_MAPS:
                return "ARRAY_OF_MAPS";
            case HASH_OF_MAPS:
                return "HASH_OF_MAPS";
            case QUEUE:
                return "QUEUE";
            case STACK:
                return "STACK";
            case TASK_STORAGE:
                return "TASK_STORAGE";
            default:
                return "type " + type;
        }
    }

    /** bpf_map_lookup_elem(): a pointer to the value, or 0. */
    long lookup(long keyPtr, int cpu) {
        throw BpfFault.of("bpf_map_lookup_elem() on " + typeName(type) + " map " + name);
    }

    /** bpf_map_update_elem(): 0 or a negative errno. */
    long update(long keyPtr, long valuePtr, long flags) {
        throw BpfFault.of("bpf_map_update_elem() on " + typeName(type) + " map " + name);
    }

    /** bpf_map_delete_elem(): 0 or a negative errno. */
    long delete(long keyPtr) {
        throw BpfFault.of("bpf_map_delete_elem() on " + typeName(type) + " map " + name);
    }

    /** bpf_map_lookup_percpu_elem() */
    long lookupPercpu(long keyPtr, int cpu) {
        throw BpfFault.of("bpf_map_lookup_percpu_elem() on " + typeName(type) + " map " + name);
    }

    long push(long valuePtr, long flags) {
        throw BpfFault.of("bpf_map_push_elem() on " + typeName(type) + " map " + name);
    }

    long pop(long valuePtr, boolean remove) {
        throw BpfFault.of("bpf_map_pop_elem() on " + typeName(type) + " map " + name);
    }

    int readKeyIndex(long keyPtr) {
        return (int) mem.loadBytes(mem.bytesAt(keyPtr, 4, "read of a map key"), (int) keyPtr, 4);
    }

    /** ARRAY and ARRAY_OF_MAPS: fixed values, one region each. */
    static final class ArrayMap extends BpfMap {
        final Memory.Bytes[] values;

        ArrayMap(Memory mem, String name, int type, int keySize, int valueSize, int maxEntries, long flags,
                byte[] init) {
            super(mem, name, type, keySize, valueSize, maxEntries, flags);
            int stride = (valueSize + 7) & ~7;
            byte[] data = init != null ? init : new byte[stride * maxEntries];
            values = new Memory.Bytes[maxEntries];
            for (int i = 0; i < maxEntries; i++) {
                values[i] = new Memory.Bytes(name + "[" + i + "]", data, i * stride, valueSize, false, true);
                values[i].key = new byte[] {(byte) i, (byte) (i >> 8), (byte) (i >> 16), (byte) (i >> 24)};
                mem.register(values[i]);
            }
        }

        @Override
        long lookup(long keyPtr, int cpu) {
            int k = readKeyIndex(keyPtr);
            if (k < 0 || k >= maxEntries) {
                return 0;
            }
            if (type == ARRAY_OF_MAPS) {
                return mem.loadBytes(values[k], 0, 8);
            }
            return Memory.ptr(values[k], 0);
        }

        @Override
        long update(long keyPtr, long valuePtr, long flags) {
            int k = readKeyIndex(keyPtr);
            if (k < 0 || k >= maxEntries) {
                return -E2BIG;
            }
            if (flags == BPF_NOEXIST) {
                return -EEXIST;
            }
            byte[] v = mem.read(valuePtr, valueSize, "read of a map value");
            System.arraycopy(v, 0, values[k].data, values[k].base, valueSize);
            return 0;
        }

        @Override
        long delete(long keyPtr) {
            return -EINVAL;
        }
    }

    /** PERCPU_ARRAY: one copy of every value per CPU. */
    static final class PerCpuArrayMap extends BpfMap {
        final Memory.Bytes[][] values;

        PerCpuArrayMap(Memory mem, String name, int keySize, int valueSize, int maxEntries, long flags, int nrCpus) {
            super(mem, name, PERCPU_ARRAY, keySize, valueSize, maxEntries, flags);
            int stride = (valueSize + 7) & ~7;
            values = new Memory.Bytes[nrCpus][maxEntries];
            for (int c = 0; c < nrCpus; c++) {
                byte[] data = new byte[stride * maxEntries];
                for (int i = 0; i < maxEntries; i++) {
                    values[c][i] = new Memory.Bytes(name + "[" + i + "]@cpu" + c, data, i * stride, valueSize, false,
                            true);
                    mem.register(values[c][i]);
                }
            }
        }

        @Override
        long lookup(long keyPtr, int cpu) {
            return lookupPercpu(keyPtr, cpu < 0 ? 0 : cpu);
        }

        @Override
        long lookupPercpu(long keyPtr, int cpu) {
            int k = readKeyIndex(keyPtr);
            if (k < 0 || k >= maxEntries || cpu < 0 || cpu >= values.length) {
                return 0;
            }
            return Memory.ptr(values[cpu][k], 0);
        }

        @Override
        long update(long keyPtr, long valuePtr, long flags) {
            int k = readKeyIndex(keyPtr);
            if (k < 0 || k >= maxEntries) {
                return -E2BIG;
            }
            byte[] v = mem.read(valuePtr, valueSize, "read of a map value");
            for (Memory.Bytes[] perCpu : values) {
                System.arraycopy(v, 0, perCpu[k].data, perCpu[k].base, valueSize);
            }
            return 0;
        }

        /** The u64 at {@code off} of value {@code key}, summed over CPUs (user space's stats read). */
        long sum(int key, int off) {
            long s = 0;
            for (Memory.Bytes[] perCpu : values) {
                s += mem.loadBytes(perCpu[key], off, 8);
            }
            return s;
        }
    }

    /** HASH and HASH_OF_MAPS: a concurrent map from key bytes to value regions. */
    static final class HashMap extends BpfMap {
        final ConcurrentHashMap<ByteBuffer, Memory.Bytes> elems = new ConcurrentHashMap<>();
        final AtomicInteger count = new AtomicInteger();

        HashMap(Memory mem, String name, int type, int keySize, int valueSize, int maxEntries, long flags) {
            super(mem, name, type, keySize, valueSize, maxEntries, flags);
        }

        private ByteBuffer key(long keyPtr) {
            return ByteBuffer.wrap(mem.read(keyPtr, keySize, "read of a map key"));
        }

        @Override
        long lookup(long keyPtr, int cpu) {
            Memory.Bytes v = elems.get(key(keyPtr));
            if (v == null) {
                return 0;
            }
            return type == HASH_OF_MAPS ? mem.loadBytes(v, 0, 8) : Memory.ptr(v, 0);
        }

        @Override
        long update(long keyPtr, long valuePtr, long flags) {
            ByteBuffer k = key(keyPtr);
            byte[] v = mem.read(valuePtr, valueSize, "read of a map value");
            Memory.Bytes cur = elems.get(k);
            if (cur != null) {
                if (flags == BPF_NOEXIST) {
                    return -EEXIST;
                }
                System.arraycopy(v, 0, cur.data, cur.base, valueSize);
                return 0;
            }
            if (flags == BPF_EXIST) {
                return -ENOENT;
            }
            if (count.incrementAndGet() > maxEntries) {
                count.decrementAndGet();
                return -E2BIG;
            }
            Memory.Bytes n = new Memory.Bytes(name + "[elem]", v, 0, valueSize, false, true);
            n.key = k.array();
            mem.register(n);
            if (elems.putIfAbsent(k, n) != null) {
                mem.unregister(n);
                count.decrementAndGet();
                return flags == BPF_NOEXIST ? -EEXIST : update(keyPtr, valuePtr, flags);
            }
            return 0;
        }

        @Override
        long delete(long keyPtr) {
            Memory.Bytes v = elems.remove(key(keyPtr));
            if (v == null) {
                return -ENOENT;
            }
            count.decrementAndGet();
            mem.unregister(v);
            return 0;
        }
    }

    /** QUEUE (FIFO) and STACK (LIFO) of fixed-size values. */
    static final class QueueMap extends BpfMap {
        private final ArrayDeque<byte[]> q = new ArrayDeque<>(); // guarded by this

        QueueMap(Memory mem, String name, int type, int valueSize, int maxEntries, long flags) {
            super(mem, name, type, 0, valueSize, maxEntries, flags);
        }

        @Override
        long push(long valuePtr, long flags) {
            byte[] v = mem.read(valuePtr, valueSize, "read of a map value");
            synchronized (this) {
                if (q.size() >= maxEntries) {
                    if ((flags & BPF_EXIST) == 0) {
                        return -E2BIG;
                    }
                    q.pollFirst();
                }
                q.addLast(v);
            }
            return 0;
        }

        @Override
        long update(long keyPtr, long valuePtr, long flags) {
            return push(valuePtr, flags);
        }

        @Override
        long pop(long valuePtr, boolean remove) {
            byte[] v;
            synchronized (this) {
                if (remove) {
                    v = type == STACK ? q.pollLast() : q.pollFirst();
                } else {
                    v = type == STACK ? q.peekLast() : q.peekFirst();
                }
            }
            if (v == null) {
                return -ENOENT;
            }
            mem.write(valuePtr, v, valueSize, "store of a popped value");
            return 0;
        }

        @Override
        long lookup(long keyPtr, int cpu) {
            return 0;
        }

        synchronized int size() {
            return q.size();
        }
    }

    /** TASK_STORAGE: one value per task, created on request. */
    static final class TaskStorageMap extends BpfMap {
        final ConcurrentHashMap<Task, Memory.Bytes> elems = new ConcurrentHashMap<>();

        TaskStorageMap(Memory mem, String name, int keySize, int valueSize, long flags) {
            super(mem, name, TASK_STORAGE, keySize, valueSize, Integer.MAX_VALUE, flags);
        }

        /** bpf_task_storage_get(): the value's pointer or 0. */
        long get(Task t, long initPtr, boolean create) {
            Memory.Bytes v = elems.get(t);
            if (v != null || !create) {
                return v == null ? 0 : Memory.ptr(v, 0);
            }
            byte[] init = initPtr != 0 ? mem.read(initPtr, valueSize, "read of a task storage initial value")
                    : new byte[valueSize];
            v = elems.computeIfAbsent(t, k -> {
                Memory.Bytes n = new Memory.Bytes(name + "[pid " + k.pid + "]", init, 0, valueSize, false, true);
                mem.register(n);
                return n;
            });
            return Memory.ptr(v, 0);
        }

        long delete(Task t) {
            Memory.Bytes v = elems.remove(t);
            if (v == null) {
                return -ENOENT;
            }
            mem.unregister(v);
            return 0;
        }
    }
}
