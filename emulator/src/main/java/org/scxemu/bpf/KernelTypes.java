// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.bpf;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.scxemu.scx.Scx;

/**
 * The emulator's own "kernel BTF": the layout of each kernel struct a scheduler may touch, and the
 * values of the kernel's enums. CO-RE relocations in an object name fields and enumerators; the
 * loader resolves them here, so an object compiled against any header that uses the kernel's
 * names runs. Layouts follow C's natural alignment and match {@code src/test/bpf/include/vmlinux.h}
 * (the fixtures' header), though nothing depends on that.
 *
 * <p>{@code task_struct} and {@code cpumask} are views of live kernel objects (see
 * {@link KernelObjects}); the argument structs, {@code scx_exit_info} and {@code scx_dump_ctx} are
 * plain bytes the loader fills before an op runs. Immutable; any thread.
 */
final class KernelTypes {
    private KernelTypes() {
    }

    /** A field: its byte offset and size, its struct type (nested struct) or null, and its id. */
    record KField(String name, int off, int size, String struct, int elemSize, boolean writable, int id) {
    }

    /** A struct or union of the model. */
    static final class KStruct {
        final String name;
        final List<KField> fields = new ArrayList<>();
        int size;
        private int align = 1;
        private final boolean union;

        KStruct(String name, boolean union) {
            this.name = name;
            this.union = union;
        }

        KField field(String n) {
            for (KField f : fields) {
                if (f.name().equals(n)) {
                    return f;
                }
            }
            return null;
        }

        int off(String n) {
            return field(n).off();
        }

        private KStruct add(String n, int size, int al, String struct, int elemSize, boolean writable, int id) {
            int off = union ? 0 : (this.size + al - 1) / al * al;
            fields.add(new KField(n, off, size, struct, elemSize, writable, id));
            this.size = Math.max(this.size, off + size);
            align = Math.max(align, al);
            return this;
        }

        KStruct scalar(String n, int size) {
            return add(n, size, size, null, size, false, -1);
        }

        KStruct scalar(String n, int size, int id, boolean writable) {
            return add(n, size, size, null, size, writable, id);
        }

        KStruct array(String n, int elemSize, int count, int id) {
            return add(n, elemSize * count, elemSize, null, elemSize, false, id);
        }

        KStruct nested(String n, String struct) {
            KStruct s = STRUCTS.get(struct);
            return add(n, s.size, s.align, struct, s.size, false, -1);
        }

        KStruct done() {
            size = (size + align - 1) / align * align;
            STRUCTS.put(name, this);
            return this;
        }
    }

    static final Map<String, KStruct> STRUCTS = new HashMap<>();

    // task_struct field ids (the switch in KernelObjects)
    static final int T_STATE = 0;
    static final int T_FLAGS = 1;
    static final int T_ON_CPU = 2;
    static final int T_PRIO = 3;
    static final int T_STATIC_PRIO = 4;
    static final int T_POLICY = 5;
    static final int T_NR_CPUS_ALLOWED = 6;
    static final int T_MIGRATION_DISABLED = 7;
    static final int T_CPUS_PTR = 8;
    static final int T_CPUS_MASK = 9;
    static final int T_PID = 10;
    static final int T_TGID = 11;
    static final int T_COMM = 12;
    static final int T_SUM_EXEC = 13;
    static final int S_DSQ = 20;
    static final int S_FLAGS = 21;
    static final int S_WEIGHT = 22;
    static final int S_STICKY_CPU = 23;
    static final int S_HOLDING_CPU = 24;
    static final int S_KF_MASK = 25;
    static final int S_OPS_STATE = 26;
    static final int S_RUNNABLE_AT = 27;
    static final int S_DDSP_DSQ_ID = 28;
    static final int S_DDSP_ENQ_FLAGS = 29;
    static final int S_SLICE = 30;
    static final int S_DSQ_VTIME = 31;
    static final int S_DISALLOW = 32;
    static final int CM_BITS = 40;

    static final KStruct CPUMASK = new KStruct("cpumask", false).array("bits", 8, 4, CM_BITS).done();
    static final KStruct SCHED_ENTITY = new KStruct("sched_entity", false).scalar("sum_exec_runtime", 8, T_SUM_EXEC,
            false).done();
    static final KStruct SCHED_EXT_ENTITY = new KStruct("sched_ext_entity", false)
            .scalar("dsq", 8, S_DSQ, false)
            .scalar("flags", 4, S_FLAGS, false)
            .scalar("weight", 4, S_WEIGHT, false)
            .scalar("sticky_cpu", 4, S_STICKY_CPU, false)
            .scalar("holding_cpu", 4, S_HOLDING_CPU, false)
            .scalar("kf_mask", 4, S_KF_MASK, false)
            .scalar("ops_state", 8, S_OPS_STATE, false)
            .scalar("runnable_at", 8, S_RUNNABLE_AT, false)
            .scalar("ddsp_dsq_id", 8, S_DDSP_DSQ_ID, false)
            .scalar("ddsp_enq_flags", 8, S_DDSP_ENQ_FLAGS, false)
            .scalar("slice", 8, S_SLICE, true)
            .scalar("dsq_vtime", 8, S_DSQ_VTIME, true)
            .scalar("disallow", 1, S_DISALLOW, true)
            .done();
    static final KStruct TASK = new KStruct("task_struct", false)
            .scalar("__state", 4, T_STATE, false)
            .scalar("flags", 4, T_FLAGS, false)
            .scalar("on_cpu", 4, T_ON_CPU, false)
            .scalar("prio", 4, T_PRIO, false)
            .scalar("static_prio", 4, T_STATIC_PRIO, false)
            .scalar("policy", 4, T_POLICY, false)
            .scalar("nr_cpus_allowed", 4, T_NR_CPUS_ALLOWED, false)
            .scalar("migration_disabled", 2, T_MIGRATION_DISABLED, false)
            .scalar("cpus_ptr", 8, T_CPUS_PTR, false)
            .nested("cpus_mask", "cpumask")
            .scalar("pid", 4, T_PID, false)
            .scalar("tgid", 4, T_TGID, false)
            .array("comm", 1, 16, T_COMM)
            .nested("se", "sched_entity")
            .nested("scx", "sched_ext_entity")
            .done();
    static final KStruct EXIT_INFO = new KStruct("scx_exit_info", false)
            .scalar("kind", 4).scalar("exit_code", 8).scalar("reason", 8).scalar("bt", 8).scalar("bt_len", 4)
            .scalar("msg", 8).scalar("dump", 8).done();
    static final KStruct INIT_TASK_ARGS = new KStruct("scx_init_task_args", false)
            .scalar("fork", 1).scalar("cgroup", 8).done();
    static final KStruct EXIT_TASK_ARGS = new KStruct("scx_exit_task_args", false).scalar("cancelled", 1).done();
    static final KStruct CGROUP_INIT_ARGS = new KStruct("scx_cgroup_init_args", false).scalar("weight", 4).done();
    static final KStruct CPU_ACQUIRE_ARGS = new KStruct("scx_cpu_acquire_args", false).done();
    static final KStruct CPU_RELEASE_ARGS = new KStruct("scx_cpu_release_args", false)
            .scalar("reason", 4).scalar("task", 8).done();
    static final KStruct DUMP_CTX = new KStruct("scx_dump_ctx", false)
            .scalar("kind", 4).scalar("exit_code", 8).scalar("reason", 8).scalar("at_ns", 8).scalar("at_jiffies", 8)
            .done();

    /** task_struct fields flattened (nested structs expanded), by byte offset. */
    static final KField[] TASK_FIELD_AT = flatten(TASK);

    private static KField[] flatten(KStruct s) {
        KField[] at = new KField[s.size];
        fill(s, 0, at);
        return at;
    }

    private static void fill(KStruct s, int base, KField[] at) {
        for (KField f : s.fields) {
            if (f.struct() != null && f.id() < 0) {
                KStruct inner = STRUCTS.get(f.struct());
                fill(inner, base + f.off(), at);
                continue;
            }
            KField abs = new KField(f.name(), base + f.off(), f.size(), f.struct(), f.elemSize(), f.writable(), f.id());
            for (int i = 0; i < f.size(); i++) {
                at[base + f.off() + i] = abs;
            }
        }
    }

    /** The kernel's enumerators by name: the SCX_* constants of {@link Scx} and the BPF_* ones here. */
    static final Map<String, Long> ENUMS;

    static {
        Map<String, Long> m = new HashMap<>();
        for (Field f : Scx.class.getFields()) {
            int mod = f.getModifiers();
            if (!Modifier.isStatic(mod) || !Modifier.isFinal(mod) || !f.getName().startsWith("SCX_")
                    && !f.getName().startsWith("__SCX_")) {
                continue;
            }
            try {
                Object v = f.get(null);
                if (v instanceof Long || v instanceof Integer) {
                    m.put(f.getName(), ((Number) v).longValue());
                }
            } catch (IllegalAccessException e) {
                throw new AssertionError(e);
            }
        }
        // v7 kf_mask values are the emulator's internal encoding; BPF never sees them.
        m.keySet().removeIf(k -> k.startsWith("SCX_KF_") || k.startsWith("__SCX_KF_") || k.startsWith("SCX_OPSS_")
                || k.startsWith("SCX_RQ_"));
        m.put("SCX_DSQ_ITER_REV", 1L << 16);
        m.put("__SCX_DSQ_ITER_HAS_SLICE", 1L << 30);
        m.put("__SCX_DSQ_ITER_HAS_VTIME", 1L << 31);
        ENUMS = Collections.unmodifiableMap(m);
    }
}
