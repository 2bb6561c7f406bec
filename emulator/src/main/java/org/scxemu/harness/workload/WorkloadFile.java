// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.workload;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.scxemu.harness.JsonReader;
import org.scxemu.kernel.Behavior;
import org.scxemu.kernel.Cgroup;
import org.scxemu.kernel.CpuMask;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.Printable;
import org.scxemu.kernel.Step;
import org.scxemu.kernel.Task;

/**
 * {@code --workload file:PATH}: a workload described in a JSON file, in the manner of rt-app: a
 * list of task kinds, each forked {@code count} times, with a policy (class), nice, affinity and a
 * list of run/sleep phases repeated {@code loop} times (0: until the run ends), after which the
 * task exits:
 *
 * <pre>
 * {
 *   "tasks": [
 *     {"name": "worker", "count": 4, "policy": "normal", "nice": 0,
 *      "phases": [{"run_ns": 2000000}, {"sleep_ns": 1000000}]},
 *     {"name": "rt", "policy": "fifo", "cpus": [1], "loop": 0,
 *      "phases": [{"sleep_ns": 5000000}, {"run_ns": 3000000}]}
 *   ]
 * }
 * </pre>
 *
 * Fields of a task: {@code name} (required, 1-15 characters of {@code [A-Za-z0-9_.-]}: the
 * tasks' comm is {@code name-i}), {@code count} (1..4096, default 1), {@code policy} ({@code
 * normal} (default), {@code batch}, {@code idle}, {@code fifo}, {@code rr}, {@code deadline},
 * {@code stop}; a stop task needs exactly one CPU in {@code cpus}), {@code nice} (-20..19, default
 * 0), {@code cpus} (the affinity: CPU numbers, each below {@code --cpus}; default all), {@code loop}
 * (&gt;= 0, default 0), {@code phases} (required, non-empty: each exactly one of {@code run_ns} or
 * {@code sleep_ns}, &gt; 0). At most 16384 tasks in all. Unknown fields are errors. Every error
 * names the file's line and the field ({@code tasks[1].cpus[0]}).
 *
 * <p>Threads: as the other workloads; each task's counters are owned by the CPU thread running it
 * and read by {@link #report} after the CPU threads are joined.
 */
public final class WorkloadFile implements Workload {
    public static final String PREFIX = "file:";
    static final int COUNT_MAX = 4096;
    static final int TASKS_MAX = 16384;
    /** The largest workload file read (a real one is a few kB). */
    public static final int SIZE_MAX = 1 << 20;
    /** The longest phase: as long as the longest run (24 h), so the arithmetic on it cannot overflow. */
    public static final long PHASE_NS_MAX = 86_400_000_000_000L;
    private static final Set<String> TOP_FIELDS = Set.of("name", "description", "tasks");
    private static final Set<String> TASK_FIELDS = Set.of("name", "count", "policy", "nice", "cpus", "loop",
            "phases", "cgroup");
    private static final String PHASE_KEYS = "run_ns, sleep_ns, policy, nice, cgroup, cpu_offline, cpu_online";

    /** A workload file that cannot be used: the message names the line and the field. */
    public static final class BadWorkloadFile extends Exception {
        private static final long serialVersionUID = 1L;

        BadWorkloadFile(String msg) {
            super(Printable.escape(msg, 300));
        }
    }

    /** One entry of {@code tasks}. Immutable after parsing. */
    private static final class Kind {
        String name;
        int count = 1;
        String policyName = "normal";
        int policy = Task.SCHED_NORMAL;
        boolean stop;
        int nice;
        int[] cpus;
        long loop;
        /** Phase lengths: positive = run, negative = sleep. */
        long[] phases;
        /** Per phase: null for run/sleep, else a syscall the task makes at that point. */
        Action[] actions;
        /** The cgroup path the tasks are forked into; null: the root. */
        String cgroup;
        final List<Runner> runners = new ArrayList<>();
    }

    /**
     * A phase that is a syscall rather than run or sleep: sched_setscheduler(), setpriority(),
     * a write to a cgroup's cgroup.procs, a write to cpuN/online. Immutable; the cgroup is
     * resolved (made) at start.
     */
    private static final class Action {
        enum Kind { POLICY, NICE, CGROUP, CPU_OFFLINE, CPU_ONLINE }

        final Kind kind;
        final long arg;
        final String path;
        Cgroup cgroup;

        Action(Kind kind, long arg, String path) {
            this.kind = kind;
            this.arg = arg;
            this.path = path;
        }

        /** Runs the syscall for {@code self}: 0 or a negative errno. */
        int run(Kernel k, Task self) {
            switch (kind) {
                case POLICY:
                    return k.schedSetscheduler(self, (int) arg);
                case NICE:
                    return k.setUserNice(self, (int) arg);
                case CGROUP:
                    return cgroup == null ? -2 : k.cgroups.attach(self, cgroup);
                case CPU_OFFLINE:
                    return k.hotplug.cpuDown((int) arg);
                default:
                    return k.hotplug.cpuUp((int) arg);
            }
        }
    }

    /** One task: walks its kind's phases. */
    private static final class Runner implements Behavior {
        final Kind kind;
        Task task;
        int phase;
        long loops;
        long runs;
        long sleeps;
        long actions;
        long actionErrors;
        boolean exited;
        Kernel kernel;

        Runner(Kind kind) {
            this.kind = kind;
        }

        @Override
        public void next(Task self, Step step, long nowNs) {
            long[] ph = kind.phases;
            long v;
            for (;;) {
                if (phase == ph.length) {
                    phase = 0;
                    loops++;
                    if (kind.loop > 0 && loops >= kind.loop) {
                        exited = true;
                        step.exit();
                        return;
                    }
                }
                Action a = kind.actions[phase];
                v = ph[phase++];
                if (a == null) {
                    break;
                }
                // a syscall made outside every kernel lock, as the behaviour contract allows;
                // every kind has a run or sleep phase, so this loop ends
                actions++;
                if (a.run(kernel, self) != 0) {
                    actionErrors++;
                }
            }
            if (v > 0) {
                runs++;
                step.run(v);
            } else {
                sleeps++;
                step.sleep(-v);
            }
        }
    }

    private final String name;
    private final String description;
    private final List<Kind> kinds;

    private WorkloadFile(String name, String description, List<Kind> kinds) {
        this.name = name;
        this.description = description;
        this.kinds = kinds;
    }

    /**
     * Reads and checks the workload file {@code path} for a machine of {@code cpus} CPUs.
     *
     * @param spec the {@code --workload} value, {@code file:PATH}: the workload's name
     */
    public static WorkloadFile load(String spec, Path path, int cpus) throws BadWorkloadFile {
        String text;
        try {
            if (!Files.exists(path)) {
                throw new NoSuchFileException(path.toString());
            }
            if (Files.isDirectory(path)) {
                throw new BadWorkloadFile("cannot read: is a directory");
            }
            if (!Files.isRegularFile(path)) {
                // a device, FIFO or socket could be endless or block for ever
                throw new BadWorkloadFile("not a regular file (a device, FIFO or socket cannot be a workload file)");
            }
            if (Files.size(path) > SIZE_MAX) {
                throw new BadWorkloadFile("too big: " + Files.size(path) + " bytes, at most " + SIZE_MAX);
            }
            byte[] bytes;
            try (InputStream in = Files.newInputStream(path)) {
                bytes = in.readNBytes(SIZE_MAX + 1); // the file may grow after the size check
            }
            if (bytes.length > SIZE_MAX) {
                throw new BadWorkloadFile("too big: more than " + SIZE_MAX + " bytes");
            }
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (NoSuchFileException e) {
            throw new BadWorkloadFile("no such file");
        } catch (CharacterCodingException e) {
            throw new BadWorkloadFile("not UTF-8 text");
        } catch (IOException | RuntimeException e) {
            throw new BadWorkloadFile("cannot read: " + e);
        }
        Object root;
        try {
            root = JsonReader.parse(text);
        } catch (JsonReader.BadJson e) {
            throw new BadWorkloadFile("line " + e.line + ": invalid JSON: " + e.getMessage());
        }
        return new Parser(path, cpus).workload(spec, root);
    }

    /** Turns the JSON tree into kinds, naming the line and field of the first thing wrong. */
    private static final class Parser {
        final Path path;
        final int cpus;

        Parser(Path path, int cpus) {
            this.path = path;
            this.cpus = cpus;
        }

        BadWorkloadFile bad(int line, String field, String why) {
            return new BadWorkloadFile("line " + line + ": " + field + ": " + why);
        }

        WorkloadFile workload(String spec, Object root) throws BadWorkloadFile {
            if (!(root instanceof JsonReader.Obj)) {
                throw new BadWorkloadFile("line 1: (top level): must be an object with a \"tasks\" list");
            }
            JsonReader.Obj top = (JsonReader.Obj) root;
            unknown(top, TOP_FIELDS, "");
            String desc = "workload file " + path;
            if (top.containsKey("description")) {
                desc = string(top, "description", "description");
            }
            if (top.containsKey("name")) {
                desc = string(top, "name", "name") + ": " + desc;
            }
            if (!top.containsKey("tasks")) {
                throw bad(top.line, "tasks", "missing (a list of task objects)");
            }
            if (!(top.get("tasks") instanceof JsonReader.Arr)) {
                throw bad(top.lineOf("tasks"), "tasks", "must be a list of task objects");
            }
            JsonReader.Arr tasks = (JsonReader.Arr) top.get("tasks");
            if (tasks.isEmpty()) {
                throw bad(top.lineOf("tasks"), "tasks", "must not be empty");
            }
            List<Kind> kinds = new ArrayList<>();
            long total = 0;
            for (int t = 0; t < tasks.size(); t++) {
                String f = "tasks[" + t + "]";
                if (!(tasks.get(t) instanceof JsonReader.Obj)) {
                    throw bad(tasks.lineOf(t), f, "must be an object");
                }
                Kind k = kind((JsonReader.Obj) tasks.get(t), f);
                total += k.count;
                if (total > TASKS_MAX) {
                    throw bad(((JsonReader.Obj) tasks.get(t)).lineOf("count"), f + ".count",
                            "more than " + TASKS_MAX + " tasks in all");
                }
                kinds.add(k);
            }
            return new WorkloadFile(spec, desc, kinds);
        }

        void unknown(JsonReader.Obj o, Set<String> allowed, String prefix) throws BadWorkloadFile {
            for (String key : o.keySet()) {
                if (!allowed.contains(key)) {
                    throw bad(o.lineOf(key), prefix + key, "unknown field; valid: "
                            + String.join(", ", new java.util.TreeSet<>(allowed)));
                }
            }
        }

        String string(JsonReader.Obj o, String key, String field) throws BadWorkloadFile {
            Object v = o.get(key);
            if (!(v instanceof String)) {
                throw bad(o.lineOf(key), field, "must be a string");
            }
            return (String) v;
        }

        long integer(int line, Object v, String field, long lo, long hi) throws BadWorkloadFile {
            if (!(v instanceof Long)) {
                throw bad(line, field, "must be an integer, got " + describe(v));
            }
            long x = (Long) v;
            if (x < lo || x > hi) {
                throw bad(line, field, x + " out of range, must be " + lo + ".." + hi);
            }
            return x;
        }

        Kind kind(JsonReader.Obj o, String f) throws BadWorkloadFile {
            unknown(o, TASK_FIELDS, f + ".");
            Kind k = new Kind();
            if (!o.containsKey("name")) {
                throw bad(o.line, f + ".name", "missing");
            }
            k.name = string(o, "name", f + ".name");
            if (!k.name.matches("[A-Za-z0-9_.-]{1,15}")) {
                throw bad(o.lineOf("name"), f + ".name", "\"" + k.name
                        + "\": must be 1-15 characters of A-Z a-z 0-9 _ . -");
            }
            if (o.containsKey("count")) {
                k.count = (int) integer(o.lineOf("count"), o.get("count"), f + ".count", 1, COUNT_MAX);
            }
            if (o.containsKey("policy")) {
                k.policyName = string(o, "policy", f + ".policy").toLowerCase(Locale.ROOT);
                switch (k.policyName) {
                    case "normal":
                    case "other":
                        k.policy = Task.SCHED_NORMAL;
                        break;
                    case "batch":
                        k.policy = Task.SCHED_BATCH;
                        break;
                    case "idle":
                        k.policy = Task.SCHED_IDLE;
                        break;
                    case "fifo":
                        k.policy = Task.SCHED_FIFO;
                        break;
                    case "rr":
                        k.policy = Task.SCHED_RR;
                        break;
                    case "deadline":
                        k.policy = Task.SCHED_DEADLINE;
                        break;
                    case "stop":
                        k.stop = true;
                        break;
                    case "ext":
                        k.policy = Task.SCHED_EXT;
                        break;
                    default:
                        throw bad(o.lineOf("policy"), f + ".policy", "\"" + o.get("policy")
                                + "\": unknown; valid: normal, batch, idle, fifo, rr, deadline, stop, ext");
                }
            }
            if (o.containsKey("nice")) {
                k.nice = (int) integer(o.lineOf("nice"), o.get("nice"), f + ".nice", -20, 19);
            }
            if (o.containsKey("cpus")) {
                Object v = o.get("cpus");
                if (!(v instanceof JsonReader.Arr) || ((JsonReader.Arr) v).isEmpty()) {
                    throw bad(o.lineOf("cpus"), f + ".cpus", "must be a non-empty list of CPU numbers");
                }
                JsonReader.Arr a = (JsonReader.Arr) v;
                k.cpus = new int[a.size()];
                for (int c = 0; c < a.size(); c++) {
                    String cf = f + ".cpus[" + c + "]";
                    if (a.get(c) instanceof Long && ((Long) a.get(c) >= cpus || (Long) a.get(c) < 0)) {
                        throw bad(a.lineOf(c), cf, "CPU " + a.get(c) + " does not exist (the machine has CPUs 0-"
                                + (cpus - 1) + ", --cpus " + cpus + ")");
                    }
                    k.cpus[c] = (int) integer(a.lineOf(c), a.get(c), cf, 0, cpus - 1);
                }
            }
            if (k.stop && (k.cpus == null || k.cpus.length != 1)) {
                throw bad(o.lineOf("policy"), f + ".cpus", "a stop task is per CPU: give exactly one CPU in cpus");
            }
            if (o.containsKey("loop")) {
                k.loop = integer(o.lineOf("loop"), o.get("loop"), f + ".loop", 0, Long.MAX_VALUE);
            }
            if (!o.containsKey("phases")) {
                throw bad(o.line, f + ".phases", "missing (a list of {\"run_ns\": N} and {\"sleep_ns\": N})");
            }
            Object pv = o.get("phases");
            if (!(pv instanceof JsonReader.Arr) || ((JsonReader.Arr) pv).isEmpty()) {
                throw bad(o.lineOf("phases"), f + ".phases", "must be a non-empty list of {\"run_ns\": N} and"
                        + " {\"sleep_ns\": N}");
            }
            JsonReader.Arr ph = (JsonReader.Arr) pv;
            k.phases = new long[ph.size()];
            k.actions = new Action[ph.size()];
            boolean runs = false;
            for (int i = 0; i < ph.size(); i++) {
                String pf = f + ".phases[" + i + "]";
                if (!(ph.get(i) instanceof JsonReader.Obj) || ((JsonReader.Obj) ph.get(i)).size() != 1) {
                    throw bad(ph.lineOf(i), pf, "must be an object with exactly one of " + PHASE_KEYS);
                }
                JsonReader.Obj p = (JsonReader.Obj) ph.get(i);
                Action act = action(p, pf);
                if (act != null) {
                    k.actions[i] = act;
                } else if (p.containsKey("run_ns")) {
                    k.phases[i] = integer(p.lineOf("run_ns"), p.get("run_ns"), pf + ".run_ns", 1, PHASE_NS_MAX);
                    runs = true;
                } else if (p.containsKey("sleep_ns")) {
                    k.phases[i] = -integer(p.lineOf("sleep_ns"), p.get("sleep_ns"), pf + ".sleep_ns", 1,
                            PHASE_NS_MAX);
                } else {
                    String key = p.keySet().iterator().next();
                    throw bad(p.lineOf(key), pf + "." + key, "unknown field; valid: " + PHASE_KEYS);
                }
            }
            if (!runs && k.loop == 0) {
                throw bad(o.lineOf("phases"), f + ".phases", "only sleeps, forever: give a run_ns phase or a loop");
            }
            boolean timed = false;
            for (Action a : k.actions) {
                timed |= a == null;
            }
            if (!timed) {
                throw bad(o.lineOf("phases"), f + ".phases", "needs a run_ns or sleep_ns phase besides the syscalls");
            }
            if (o.containsKey("cgroup")) {
                k.cgroup = cgroupPath(o, "cgroup", f + ".cgroup");
            }
            return k;
        }

        String cgroupPath(JsonReader.Obj o, String key, String field) throws BadWorkloadFile {
            String v = string(o, key, field);
            if (!v.matches("(/[A-Za-z0-9_.-]{1,64}){1,16}|/")) {
                throw bad(o.lineOf(key), field, "\"" + v + "\": a cgroup path: /, or /name[/name...] of"
                        + " A-Z a-z 0-9 _ . - (at most 16 levels)");
            }
            return v;
        }

        /** A syscall phase, or null for run_ns / sleep_ns / an unknown key. */
        Action action(JsonReader.Obj p, String pf) throws BadWorkloadFile {
            if (p.containsKey("policy")) {
                String v = string(p, "policy", pf + ".policy").toLowerCase(Locale.ROOT);
                int pol;
                switch (v) {
                    case "normal":
                    case "other":
                        pol = Task.SCHED_NORMAL;
                        break;
                    case "batch":
                        pol = Task.SCHED_BATCH;
                        break;
                    case "idle":
                        pol = Task.SCHED_IDLE;
                        break;
                    case "ext":
                        pol = Task.SCHED_EXT;
                        break;
                    case "fifo":
                        pol = Task.SCHED_FIFO;
                        break;
                    case "rr":
                        pol = Task.SCHED_RR;
                        break;
                    default:
                        throw bad(p.lineOf("policy"), pf + ".policy", "\"" + v
                                + "\": unknown; valid: normal, batch, idle, ext, fifo, rr");
                }
                return new Action(Action.Kind.POLICY, pol, null);
            } else if (p.containsKey("nice")) {
                return new Action(Action.Kind.NICE, integer(p.lineOf("nice"), p.get("nice"), pf + ".nice", -20, 19),
                        null);
            } else if (p.containsKey("cgroup")) {
                return new Action(Action.Kind.CGROUP, 0, cgroupPath(p, "cgroup", pf + ".cgroup"));
            } else if (p.containsKey("cpu_offline")) {
                return new Action(Action.Kind.CPU_OFFLINE, integer(p.lineOf("cpu_offline"), p.get("cpu_offline"),
                        pf + ".cpu_offline", 0, cpus - 1), null);
            } else if (p.containsKey("cpu_online")) {
                return new Action(Action.Kind.CPU_ONLINE, integer(p.lineOf("cpu_online"), p.get("cpu_online"),
                        pf + ".cpu_online", 0, cpus - 1), null);
            }
            return null;
        }

        static String describe(Object v) {
            if (v == null) {
                return "null";
            } else if (v instanceof String) {
                return "a string";
            } else if (v instanceof Double) {
                return v.toString();
            } else if (v instanceof Boolean) {
                return v.toString();
            } else if (v instanceof List) {
                return "a list";
            } else if (v instanceof Map) {
                return "an object";
            }
            return v.toString();
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public void start(Kernel kernel, int cpus, long seed) {
        int n = 0;
        for (Kind k : kinds) {
            for (Action a : k.actions) {
                if (a != null && a.path != null) {
                    a.cgroup = kernel.cgroups.mkdirP(a.path);
                }
            }
        }
        for (Kind k : kinds) {
            Cgroup home = k.cgroup == null ? null : kernel.cgroups.mkdirP(k.cgroup);
            CpuMask allowed = k.cpus == null ? null : CpuMask.of(k.cpus);
            for (int i = 0; i < k.count; i++) {
                Runner r = new Runner(k);
                r.kernel = kernel;
                Kernel.TaskSpec ts = new Kernel.TaskSpec().comm(k.name + "-" + i).policy(k.policy).nice(k.nice)
                        .behavior(r);
                if (home != null) {
                    ts.cgroup(home.id());
                }
                if (allowed != null) {
                    ts.allowed(allowed).cpu(k.cpus[i % k.cpus.length]);
                } else {
                    ts.cpu(n % cpus);
                }
                if (k.stop) {
                    ts.stopper();
                }
                r.task = kernel.fork(ts);
                if (r.task != null) {
                    k.runners.add(r);
                }
                n++;
            }
        }
    }

    @Override
    public Map<String, Object> report() {
        Map<String, Object> m = new LinkedHashMap<>();
        List<Object> list = new ArrayList<>();
        long tasks = 0;
        for (Kind k : kinds) {
            List<Task> ts = new ArrayList<>();
            long loops = 0;
            long runs = 0;
            long sleeps = 0;
            long exited = 0;
            long waitNs = 0;
            long syscalls = 0;
            long syscallErrors = 0;
            for (Runner r : k.runners) {
                ts.add(r.task);
                loops += r.loops;
                runs += r.runs;
                sleeps += r.sleeps;
                exited += r.exited ? 1 : 0;
                syscalls += r.actions;
                syscallErrors += r.actionErrors;
                waitNs += r.task.waitNs();
            }
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", k.name);
            e.put("policy", k.policyName);
            e.putAll(Phases.runtimes(ts));
            e.put("loops_done", loops);
            e.put("run_phases", runs);
            e.put("sleep_phases", sleeps);
            e.put("exited", exited);
            e.put("wait_ns_total", waitNs);
            e.put("syscalls", syscalls);
            e.put("syscall_errors", syscallErrors);
            list.add(e);
            tasks += ts.size();
        }
        m.put("tasks", tasks);
        m.put("kinds", list);
        return m;
    }
}
