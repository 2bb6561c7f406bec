// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.bpf;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.scxemu.scx.SchedExtOps;

/**
 * Loads a clang-compiled sched_ext object ({@code --scheduler bpf:FILE.bpf.o}) as a
 * {@link SchedExtOps}. The entry point of this package for the CLI and tests.
 */
public final class BpfScheduler {
    private BpfScheduler() {
    }

    /** What the loader's user space decides: as a skeleton-based C loader would. */
    public static final class Options {
        /** libbpf_num_possible_cpus(): sizes per-CPU maps and fills {@code nr_cpu_ids}. */
        public int nrCpus = 4;
        /** --seed: bpf_get_prandom_u32()'s sequence. */
        public long seed;
        /** --bpf-set NAME=VALUE, in order. */
        public final Map<String, String> sets = new LinkedHashMap<>();
        /** kfuncs the chosen kernel profile lacks. */
        public Set<String> profileLacks = Set.of();
        /** Where bpf_printk() lines go. */
        public Consumer<String> printk = s -> { };
    }

    /**
     * The options for {@code --scheduler bpf:FILE --bpf-set NAME=VALUE... --kernel PROFILE}: the
     * sets parsed (one line on a malformed one), the kfuncs the profile lacks.
     */
    public static Options cliOptions(List<String> sets, String kernelProfile, int cpus, long seed)
            throws BpfLoadException {
        Options o = new Options();
        o.nrCpus = cpus;
        o.seed = seed;
        o.profileLacks = profileLacks(kernelProfile);
        for (String s : sets) {
            int eq = s.indexOf('=');
            if (eq <= 0) {
                throw new BpfLoadException("--bpf-set " + s + ": expected NAME=VALUE");
            }
            o.sets.put(s.substring(0, eq), s.substring(eq + 1));
        }
        return o;
    }

    /**
     * The kfuncs a kernel profile's BPF side does not have: the v7 series and 6.12 predate the
     * 6.13 names ({@code scx_bpf_dsq_insert} and friends), which the Java API offers as aliases.
     */
    public static Set<String> profileLacks(String kernelProfile) {
        if ("v7".equals(kernelProfile) || "6.12".equals(kernelProfile)) {
            return Set.of("scx_bpf_dsq_insert", "scx_bpf_dsq_insert_vtime", "scx_bpf_dsq_move_to_local");
        }
        return Set.of();
    }

    /**
     * Loads {@code file}; a malformed or unsupported object is a {@link BpfLoadException} whose
     * message is one line.
     */
    public static SchedExtOps load(Path file, Options o) throws BpfLoadException {
        BpfObject obj = new BpfObject(file, o.nrCpus, o.profileLacks, o.sets);
        Vm vm = new Vm(obj, o.seed);
        vm.printk = o.printk;
        return OpsClass.instantiate(obj, vm);
    }

    /** The ops the object implements, by kernel name (for reports). */
    public static List<String> ops(SchedExtOps ops) {
        return List.copyOf(((BpfOps) ops).obj.opsTable.ops.keySet());
    }

    /**
     * The exit report of the object's own {@code uei} record, as {@code UEI_REPORT()} prints it
     * ("EXIT: reason (msg)"), or null when the object keeps none or recorded nothing.
     */
    public static String exitReport(SchedExtOps ops) {
        BpfOps b = (BpfOps) ops;
        BpfObject.Global g = b.obj.global("uei");
        if (g == null || g.size() < 4 + 8 + 4) {
            return null;
        }
        Memory mem = b.vm.mem;
        int kind = (int) mem.loadBytes(g.region(), g.off(), 4);
        if (kind == 0) {
            return null;
        }
        long p = Memory.ptr(g.region(), g.off());
        String reason = b.vm.string(p + 16, 128);
        String msg = g.size() >= 16 + 128 + 1 ? b.vm.string(p + 16 + 128, 1024) : "";
        return "EXIT: " + reason + (msg.isEmpty() ? "" : " (" + msg + ")");
    }

    /** The u64 global {@code name} of a loaded object (tests, stats). */
    public static long global(SchedExtOps ops, String name) {
        BpfOps b = (BpfOps) ops;
        BpfObject.Global g = b.obj.global(name);
        if (g == null) {
            throw new IllegalArgumentException("no global " + name);
        }
        return b.vm.mem.loadBytes(g.region(), g.off(), Math.min(8, g.size()));
    }
}
