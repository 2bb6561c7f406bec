// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import java.io.File;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.scxemu.schedulers.ScxCentral;
import org.scxemu.schedulers.ScxPair;
import org.scxemu.schedulers.ScxQmap;
import org.scxemu.schedulers.ScxQmap612;
import org.scxemu.schedulers.ScxSimple;
import org.scxemu.scx.SchedExtOps;

/**
 * The schedulers {@code --scheduler} can name, each with the options it takes (its user-space
 * half's command-line flags) and a factory. Immutable; any thread.
 */
final class Schedulers {
    private Schedulers() {
    }

    /** Builds a scheduler from the options given on the command line. */
    interface Factory {
        /**
         * @param given   the scheduler options given, by option name ({@code "--slice-us"} to its
         *                value; flags map to {@code Boolean.TRUE}); only names in the entry's set
         * @param applied filled in with the settings the scheduler was built with, for the JSON
         * @param cpus    the machine's CPUs (the loader's libbpf_num_possible_cpus())
         */
        SchedExtOps create(Map<String, Object> given, Map<String, Object> applied, int cpus);
    }

    /** A scheduler: its CLI name, one line for {@code list}, the options it accepts, its factory. */
    record Entry(String name, String description, Set<String> options, Factory factory) {
    }

    /** Every option that belongs to some scheduler rather than to the run. */
    static final Set<String> SCHEDULER_OPTIONS = Set.of("--fifo", "--no-cpu-release", "--slice-us", "--timeout-ms",
            "--stall-user-nth", "--stall-kernel-nth", "--dsp-batch", "--error-after", "--dsp-inf-loop-after",
            "--central-cpu", "--stride", "--as-written");

    static final List<Entry> ALL = List.of(
            new Entry("simple",
                    "scx_simple: one global DSQ, weighted vtime or FIFO (--fifo); the minimal example scheduler",
                    Set.of("--fifo"), Schedulers::simple),
            new Entry("qmap",
                    "scx_qmap: five FIFO queues by weight; cpu_release re-enqueues the local DSQ "
                            + "(the seed's feature; off with --no-cpu-release)",
                    Set.of("--no-cpu-release", "--slice-us", "--timeout-ms", "--stall-user-nth", "--stall-kernel-nth",
                            "--dsp-batch", "--error-after", "--dsp-inf-loop-after"),
                    Schedulers::qmap),
            new Entry("qmap-6.12", "scx_qmap of 6.12 (--kernel 6.12+): DSQ iterator, dispatch_from_dsq, cpuperf",
                    Set.of("--slice-us", "--timeout-ms", "--stall-user-nth", "--stall-kernel-nth", "--dsp-batch",
                            "--error-after", "--dsp-inf-loop-after"), ScxQmap612::fromCli),
            new Entry("central",
                    "scx_central: one central CPU makes every decision, LOCAL_ON dispatch with infinite slices, "
                            + "a 1 ms timer preempts (--slice-us, --central-cpu)",
                    Set.of("--slice-us", "--central-cpu"), Schedulers::central),
            new Entry("pair",
                    "scx_pair: sibling CPUs run tasks of one cgroup at a time; cpu_release/cpu_acquire with "
                            + "SCX_KICK_WAIT keep it strict under RT (off with --no-cpu-release; --stride)",
                    Set.of("--no-cpu-release", "--stride", "--as-written"), Schedulers::pair));

    /** The scheduler named {@code name}, or null. */
    static Entry byName(String name) {
        for (Entry e : ALL) {
            if (e.name().equals(name)) {
                return e;
            }
        }
        return null;
    }

    static String names() {
        StringBuilder sb = new StringBuilder();
        for (Entry e : ALL) {
            sb.append(sb.length() == 0 ? "" : ", ").append(e.name());
        }
        return sb.toString();
    }

    private static SchedExtOps simple(Map<String, Object> given, Map<String, Object> applied, int cpus) {
        boolean fifo = given.containsKey("--fifo");
        applied.put("fifo_sched", fifo);
        return new ScxSimple(fifo);
    }

    private static SchedExtOps qmap(Map<String, Object> given, Map<String, Object> applied, int cpus) {
        ScxQmap.Options o = new ScxQmap.Options();
        if (given.containsKey("--slice-us")) {
            o.sliceNs = (Long) given.get("--slice-us") * 1000L;
        }
        if (given.containsKey("--timeout-ms")) {
            o.timeoutMs = (Integer) given.get("--timeout-ms");
        }
        if (given.containsKey("--stall-user-nth")) {
            o.stallUserNth = (Long) given.get("--stall-user-nth");
        }
        if (given.containsKey("--stall-kernel-nth")) {
            o.stallKernelNth = (Long) given.get("--stall-kernel-nth");
        }
        if (given.containsKey("--dsp-batch")) {
            o.dspBatch = (Integer) given.get("--dsp-batch");
        }
        if (given.containsKey("--error-after")) {
            o.errorAfter = (Long) given.get("--error-after");
        }
        if (given.containsKey("--dsp-inf-loop-after")) {
            o.dspInfLoopAfter = (Long) given.get("--dsp-inf-loop-after");
        }
        if (given.containsKey("--no-cpu-release")) {
            o.cpuRelease = false;
        }
        applied.put("slice_ns", o.sliceNs);
        applied.put("stall_user_nth", o.stallUserNth);
        applied.put("stall_kernel_nth", o.stallKernelNth);
        applied.put("dsp_inf_loop_after", o.dspInfLoopAfter);
        applied.put("dsp_batch", (long) o.dspBatch);
        applied.put("error_after", o.errorAfter);
        applied.put("cpu_release", o.cpuRelease);
        applied.put("switch_partial", o.switchPartial);
        applied.put("print_shared", o.printShared);
        applied.put("timeout_ms", (long) o.timeoutMs);
        return ScxQmap.create(o);
    }

    private static SchedExtOps central(Map<String, Object> given, Map<String, Object> applied, int cpus) {
        ScxCentral.Options o = new ScxCentral.Options();
        o.nrCpuIds = cpus;
        if (given.containsKey("--slice-us")) {
            o.sliceNs = (Long) given.get("--slice-us") * 1000L;
        }
        if (given.containsKey("--central-cpu")) {
            o.centralCpu = (Integer) given.get("--central-cpu");
        }
        applied.put("slice_ns", o.sliceNs);
        applied.put("central_cpu", (long) o.centralCpu);
        applied.put("nr_cpu_ids", (long) o.nrCpuIds);
        return new ScxCentral(o);
    }

    private static SchedExtOps pair(Map<String, Object> given, Map<String, Object> applied, int cpus) {
        ScxPair.Options o = new ScxPair.Options();
        o.nrCpuIds = cpus;
        o.stride = cpus / 2;
        if (given.containsKey("--stride")) {
            o.stride = (Integer) given.get("--stride");
        }
        if (given.containsKey("--no-cpu-release")) {
            o.cpuRelease = false;
        }
        if (given.containsKey("--as-written")) {
            o.asWritten = true;
        }
        applied.put("nr_cpu_ids", (long) o.nrCpuIds);
        applied.put("stride", (long) o.stride);
        applied.put("pair_batch_dur_ns", o.pairBatchDurNs);
        applied.put("cpu_release", o.cpuRelease);
        applied.put("as_written", o.asWritten);
        return ScxPair.create(o);
    }

    /** {@code --scheduler class:NAME}: a user's own scheduler class. */
    static final String CLASS_PREFIX = "class:";

    /** A user scheduler that cannot be loaded; the message is the one-line reason. */
    static final class LoadException extends Exception {
        private static final long serialVersionUID = 1L;

        LoadException(String msg) {
            super(msg);
        }
    }

    /**
     * {@code --scheduler class:NAME [--classpath PATH]}: loads class {@code NAME} from
     * {@code classpath} (jars or directories separated by the platform's path separator; the
     * emulator's own class path when null) through a {@link URLClassLoader} whose parent is the
     * emulator's loader, checks that it implements {@link SchedExtOps} with a public no-arg
     * constructor, and builds it once, now, so that a constructor that throws is reported before
     * anything runs. The entry's factory returns that instance. The loader stays open: the
     * scheduler's classes may load more classes while it runs.
     */
    static Entry userClass(String scheduler, String classpath) throws LoadException {
        return userClass(scheduler, classpath, Map.of());
    }

    /**
     * As {@link #userClass(String, String)}, with the {@code --sched-opt KEY=VALUE} options: a class
     * with a public constructor taking a {@code Map<String, String>} is built with it (an
     * unmodifiable copy of {@code opts}, empty when none were given); options given to a class
     * without one are an error.
     */
    static Entry userClass(String scheduler, String classpath, Map<String, String> opts) throws LoadException {
        String cn = scheduler.substring(CLASS_PREFIX.length());
        String what = "--scheduler " + scheduler + ": ";
        if (cn.isEmpty()) {
            throw new LoadException(what + "no class name after 'class:'");
        }
        ClassLoader parent = Schedulers.class.getClassLoader();
        ClassLoader loader = parent;
        if (classpath != null) {
            List<URL> urls = new ArrayList<>();
            for (String e : classpath.split(File.pathSeparator, -1)) {
                Path path = Path.of(e.isEmpty() ? "." : e);
                if (!Files.exists(path)) {
                    throw new LoadException("--classpath " + classpath + ": " + path + ": no such file or directory");
                }
                if (!Files.isDirectory(path) && !Files.isReadable(path)) {
                    throw new LoadException("--classpath " + classpath + ": " + path + ": cannot read");
                }
                try {
                    urls.add(path.toAbsolutePath().toUri().toURL());
                } catch (MalformedURLException ex) {
                    throw new LoadException("--classpath " + classpath + ": " + path + ": " + ex.getMessage());
                }
            }
            loader = new URLClassLoader("scx-emu-user", urls.toArray(new URL[0]), parent);
        }
        String where = classpath == null ? "on the emulator's class path (use --classpath JAR)"
                : "in --classpath " + classpath;
        Class<?> c;
        try {
            c = Class.forName(cn, false, loader);
        } catch (ClassNotFoundException ex) {
            throw new LoadException(what + "class " + cn + " not found " + where);
        } catch (LinkageError ex) {
            throw new LoadException(what + "cannot load class " + cn + ": " + Main.oneLine(ex.toString()));
        }
        if (!SchedExtOps.class.isAssignableFrom(c)) {
            throw new LoadException(what + "class " + cn + " does not implement " + SchedExtOps.class.getName());
        }
        if (c.isInterface() || Modifier.isAbstract(c.getModifiers())) {
            throw new LoadException(what + "class " + cn + " is abstract: it cannot be instantiated");
        }
        if (!Modifier.isPublic(c.getModifiers())) {
            throw new LoadException(what + "class " + cn + " is not public");
        }
        Constructor<?> ctor;
        Map<String, String> optsCopy = Map.copyOf(opts);
        boolean takesOpts;
        try {
            ctor = optionsConstructor(c);
            takesOpts = ctor != null;
            if (ctor == null) {
                if (!optsCopy.isEmpty()) {
                    throw new LoadException(what + "class " + cn + " takes no --sched-opt: give it a public"
                            + " constructor taking a Map<String, String>");
                }
                ctor = c.getConstructor();
            }
        } catch (NoSuchMethodException ex) {
            throw new LoadException(what + "class " + cn + " has no public no-argument constructor (nor one"
                    + " taking a Map<String, String>)");
        } catch (LinkageError ex) {
            throw new LoadException(what + "cannot load class " + cn + ": " + Main.oneLine(ex.toString()));
        }
        SchedExtOps ops;
        try {
            ops = (SchedExtOps) (takesOpts ? ctor.newInstance(optsCopy) : ctor.newInstance());
        } catch (InvocationTargetException ex) {
            Throwable cause = ex.getCause() == null ? ex : ex.getCause();
            throw new LoadException(what + "the constructor of " + cn + " threw " + Main.oneLine(cause));
        } catch (ReflectiveOperationException | LinkageError | RuntimeException ex) {
            throw new LoadException(what + "cannot instantiate " + cn + ": " + Main.oneLine(ex.toString()));
        }
        return new Entry(scheduler, "user scheduler " + cn, Set.of(), (given, applied, cpus) -> {
            applied.put("class", cn);
            if (classpath != null) {
                applied.put("classpath", classpath);
            }
            if (!optsCopy.isEmpty()) {
                applied.put("sched_opts", new LinkedHashMap<String, Object>(opts));
            }
            return ops;
        });
    }

    /** The public constructor taking a {@code Map} (the --sched-opt map), or null. */
    private static Constructor<?> optionsConstructor(Class<?> c) {
        try {
            return c.getConstructor(Map.class);
        } catch (NoSuchMethodException ex) {
            return null;
        }
    }

    /** {@code --scheduler bpf:FILE.bpf.o}: a clang-compiled sched_ext object (package org.scxemu.bpf). */
    static final String BPF_PREFIX = "bpf:";

    /**
     * Loads the object now, so a malformed one is refused before anything runs; the factory hands
     * out that instance first and a fresh load for every later run (stress --search).
     */
    static Entry bpfObject(String scheduler, List<String> sets, String kernel, int cpus, long seed)
            throws LoadException {
        Path file = Path.of(scheduler.substring(BPF_PREFIX.length()));
        try {
            org.scxemu.bpf.BpfScheduler.Options o = org.scxemu.bpf.BpfScheduler.cliOptions(sets, kernel, cpus, seed);
            SchedExtOps[] first = {org.scxemu.bpf.BpfScheduler.load(file, o)};
            return new Entry(scheduler, "BPF object " + file, Set.of(), (given, applied, n) -> {
                applied.put("object", file.toString());
                applied.putAll(o.sets);
                SchedExtOps ops = first[0];
                first[0] = null;
                try {
                    return ops != null ? ops : org.scxemu.bpf.BpfScheduler.load(file, o);
                } catch (org.scxemu.bpf.BpfLoadException e) {
                    throw new IllegalStateException(e.getMessage(), e);
                }
            });
        } catch (org.scxemu.bpf.BpfLoadException e) {
            throw new LoadException(e.getMessage());
        }
    }

    /** A fresh, ordered map for {@link Factory#create}'s {@code applied}. */
    static Map<String, Object> newApplied() {
        return new LinkedHashMap<>();
    }
}
