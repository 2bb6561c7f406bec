// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.stress;

import static org.scxemu.harness.stress.ChaosConfig.AFFINITY;
import static org.scxemu.harness.stress.ChaosConfig.COUNT;
import static org.scxemu.harness.stress.ChaosConfig.DELAY;
import static org.scxemu.harness.stress.ChaosConfig.DL;
import static org.scxemu.harness.stress.ChaosConfig.FORKEXIT;
import static org.scxemu.harness.stress.ChaosConfig.HOTPLUG;
import static org.scxemu.harness.stress.ChaosConfig.KICK;
import static org.scxemu.harness.stress.ChaosConfig.NAMES;
import static org.scxemu.harness.stress.ChaosConfig.RELOAD;
import static org.scxemu.harness.stress.ChaosConfig.RT;
import static org.scxemu.harness.stress.ChaosConfig.SLEEP;
import static org.scxemu.harness.stress.ChaosConfig.STOP;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.scxemu.kernel.Behavior;
import org.scxemu.kernel.Clock;
import org.scxemu.kernel.CpuMask;
import org.scxemu.kernel.Ext;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.RacePoint;
import org.scxemu.kernel.SchedClass;
import org.scxemu.kernel.Step;
import org.scxemu.kernel.Task;
import org.scxemu.kernel.Timer;
import org.scxemu.scx.Scx;

/**
 * The chaos of {@code ./scx-emu stress}: while a workload runs, one {@code scx-chaos} thread
 * injects, at random but from the seed, the events that open the sched_ext core's race windows.
 * Which injector acts next is drawn in proportion to the {@link ChaosConfig} weights, then the
 * thread parks 100 µs - 1 ms:
 * <ul>
 *   <li>{@code rt}, {@code dl}, {@code stop}: a pool of SCHED_FIFO, SCHED_DEADLINE and stop-class
 *       tasks, one of each pinned to every CPU, asleep between bursts. An injection hands a random
 *       CPU's task a plan of 1-4 bursts, each short (20-200 µs) or, one time in eight, long
 *       (1-10 ms), back to back or a few µs apart, and wakes it: the ext task there is preempted
 *       ({@code ops.cpu_release()}), and {@code cpu_acquire} follows when the burst ends.
 *   <li>{@code sleep}: {@code 2 x cpus} chaos-owned normal tasks (ext while a scheduler is loaded)
 *       that run 10 µs - 2 ms, then sleep on a timer, block until woken, wake a random peer, or
 *       yield. An injection wakes a random one, or tells it to sleep or block at its next step.
 *   <li>{@code affinity}: {@link Kernel#setCpusAllowedPtr} on a random live ext task, half the
 *       time the one running on a random CPU, with a mask of one CPU, a few, or all.
 *   <li>{@code forkexit}: forks a normal task that runs 10 µs - 1 ms (with a short sleep half the
 *       time) and exits; or makes a chaos-owned task exit at its next step, whether it is running
 *       or queued then (a sleep-pool task is replaced by a new one).
 *   <li>{@code kick}: while a scheduler is loaded, arms a timer on a random CPU that calls
 *       {@code scx_bpf_kick_cpu()} (a context the kernel allows it from) on a random CPU with
 *       {@code SCX_KICK_IDLE}, {@code SCX_KICK_PREEMPT}, {@code SCX_KICK_WAIT},
 *       {@code PREEMPT | WAIT} or 0. At most one chaos {@code SCX_KICK_WAIT} is in flight, so
 *       chaos kicks never form a wait cycle (the v7 wait spins in irq context: two CPUs waiting
 *       for each other would never pick again).
 *   <li>{@code reload}: calls the reload callback (unload, load again), at most once every
 *       {@code 3 s / weight} by default ({@link #reloadEvery}), so a 10 s run reloads a few times.
 *   <li>{@code delay}: installs a {@link DelayHook} at the core's {@link RacePoint}s for the
 *       run: {@code weight / 256 .. weight / 32} of the points (a seeded rate, at most 1/4) get
 *       a spin, a yield or a park.
 * </ul>
 *
 * <p>Reproducibility: the choice of injector and each injector's parameters come from
 * {@link SplittableRandom}s split from the seed in a fixed order, one per injector, drawn only on
 * the chaos thread; the chaos-owned tasks draw from their own splits. Which task an injection hits
 * and when it lands depend on the machine's state and the threads' interleaving, as they must.
 *
 * <p>Threads: {@link #start} and {@link #stop} are called by one controlling thread. The
 * injectors' state (pools, random streams, the reload clock) is owned by the {@code scx-chaos}
 * thread; {@link #stop} reads the task list only after that thread ended (or gave up on it,
 * racily but benignly: {@code owned} is a copy-on-write list). A chaos task's behaviour state is
 * owned by the CPU thread running the task; its {@code exitRequested}, {@code forced},
 * {@code idle} and {@code mailbox} are written by the chaos thread and read by the task (volatile
 * or atomic). The counters are atomic, incremented on the chaos thread and, for kicks, on the CPU
 * thread that fires the kick timer.
 *
 * <p>Stepped mode ({@link #startStepped}, for a controlled run): there is no {@code scx-chaos}
 * thread and no delay hook; whoever calls {@link #step} (a controlled run's harness participant,
 * one action at a time) owns what the chaos thread owns above, the reload clock reads the kernel's
 * (simulated) clock, and which task an injection hits and when it lands follow from the seed too.
 *
 * <p>Nothing here throws into a CPU thread: behaviours only run, sleep, block, yield, exit and
 * wake tasks. An exception on the chaos thread (an inconsistency the kernel threw) is recorded as a
 * kernel bug ({@link Kernel#reportBug}) and ends the injections; {@link #failure} returns it.
 */
public final class Chaos {
    private static final long SHORT_BURST_MIN_NS = 20_000L;
    private static final long SHORT_BURST_MAX_NS = 200_000L;
    private static final long LONG_BURST_MIN_NS = 1_000_000L;
    private static final long LONG_BURST_MAX_NS = 10_000_000L;
    private static final long PAUSE_MIN_NS = 100_000L;
    private static final long PAUSE_MAX_NS = 1_000_000L;
    private static final long DEFAULT_RELOAD_GAP_NS = 3_000_000_000L;
    /** Compressed time: how far behind its emulated schedule the chaos thread may fall. */
    private static final long CATCH_UP_MAX_NS = 20 * PAUSE_MAX_NS;
    private static final long[] KICK_FLAGS = {
        Scx.SCX_KICK_IDLE, Scx.SCX_KICK_PREEMPT, Scx.SCX_KICK_WAIT, Scx.SCX_KICK_PREEMPT | Scx.SCX_KICK_WAIT, 0,
    };

    private final Kernel kernel;
    private final ChaosConfig cfg;
    private final Runnable reload;
    private final int nrCpus;
    private final AtomicLong[] counts = new AtomicLong[COUNT];
    /** Owned by the chaos thread (created by the constructor, before the thread starts). */
    private final SplittableRandom chooser;
    private final SplittableRandom[] rnd = new SplittableRandom[COUNT];
    /** The seed of the chaos-owned tasks' own streams; chaos thread. */
    private final SplittableRandom taskSeeds;
    private final DelayHook delayHook;
    /** The minimum time between two reloads at weight 1; set before {@link #start}. */
    private long reloadGapNs = DEFAULT_RELOAD_GAP_NS;

    /** rt, dl, stop: [class][cpu]; chaos thread. */
    private final Burster[][] bursters = new Burster[3][];
    /** The sleep pool; chaos thread. */
    private final List<Sleeper> sleepers = new ArrayList<>();
    /** The sleep pool's tasks, published for peer wakeups (copy on write by the chaos thread). */
    private volatile Task[] sleeperTasks = new Task[0];
    /** Short-lived forked tasks; chaos thread. */
    private final List<Ephemeral> ephemerals = new ArrayList<>();
    /** Every chaos-owned behaviour, for stop(). Appended by the chaos thread. */
    private final List<ChaosBehavior> owned = new CopyOnWriteArrayList<>();
    /** One kick timer per CPU (the kicking CPU). */
    private final KickTimer[] kickTimers;
    /** A chaos SCX_KICK_WAIT is between its timer and the end of its wait. */
    private final AtomicBoolean waitInFlight = new AtomicBoolean();
    /** The reload clock (the kernel's now() at the last reload, or at the start); chaos thread. */
    private long lastReloadNs;

    private volatile boolean running;
    private volatile Throwable failure;
    /** start()/stop() caller only. */
    private Thread thread;
    /** Set once by {@link #startStepped}, before any {@link #step}. */
    private boolean stepped;
    /** Whether step() has set up the pools; owned by the thread calling step(). */
    private boolean setUpDone;
    private boolean hookInstalled;
    /** The chaos thread's party slot on a {@link Clock.Warp} clock, else -1; set before it starts. */
    private int warpSlot = -1;

    /**
     * @param kernel the machine to inject into
     * @param cfg which injectors and how much
     * @param seed everything random derives from it
     * @param reload unloads the scheduler and loads it again (called on the chaos thread); may be
     *     null when {@code reload} is off
     */
    public Chaos(Kernel kernel, ChaosConfig cfg, long seed, Runnable reload) {
        this.kernel = kernel;
        this.cfg = cfg;
        this.reload = reload;
        this.nrCpus = kernel.nrCpus();
        if (reload == null && cfg.weight(RELOAD) > 0) {
            throw new IllegalArgumentException("chaos injector reload is on but no reload callback was given");
        }
        SplittableRandom root = new SplittableRandom(seed);
        this.chooser = root.split();
        for (int i = 0; i < COUNT; i++) {
            counts[i] = new AtomicLong();
            rnd[i] = root.split();
        }
        this.taskSeeds = root.split();
        int dw = cfg.weight(DELAY);
        if (dw > 0) {
            SplittableRandom r = rnd[DELAY];
            int perWeight = 256 + r.nextInt(1793); // 1/256 .. 1/32 of 65536
            this.delayHook = new DelayHook(r.nextLong(), (int) Math.min(16384L, (long) dw * perWeight));
        } else {
            // no delays: the hook only counts the race points, for the exploration rate
            this.delayHook = new DelayHook(0L, 0);
        }
        this.kickTimers = new KickTimer[nrCpus];
        for (int cpu = 0; cpu < nrCpus; cpu++) {
            kickTimers[cpu] = new KickTimer(cpu);
        }
    }

    /** The minimum time between two reloads at weight 1 (3 s by default); call before {@link #start}. */
    public Chaos reloadEvery(long minGapNs) {
        if (minGapNs < 0) {
            throw new IllegalArgumentException("reload gap must be >= 0, got " + minGapNs);
        }
        this.reloadGapNs = minGapNs;
        return this;
    }

    /** Starts the {@code scx-chaos} thread (and installs the delay hook). */
    public synchronized void start() {
        if (thread != null || stepped) {
            throw new IllegalStateException("chaos already started");
        }
        running = true;
        RacePoint.install(delayHook);
        hookInstalled = true;
        thread = new Thread(this::loop, "scx-chaos");
        thread.setDaemon(true);
        if (kernel.clock instanceof Clock.Warp) {
            // a skipping clock must not skip past an injection: chaos is one of its parties
            warpSlot = ((Clock.Warp) kernel.clock).register(thread);
        }
        thread.start();
    }

    /**
     * Starts stepped chaos: no thread and no delay hook (a controlled run decides the
     * interleaving at every race point itself, which is what replaces the delays); the caller
     * drives the injections one at a time with {@link #step}, on simulated time. The whole run,
     * chaos included, is then a function of the seed. {@code reload} is not injected in this mode
     * (a reload waits for the disable work, which a controlled run gives to another thread).
     */
    public synchronized void startStepped() {
        if (thread != null || stepped) {
            throw new IllegalStateException("chaos already started");
        }
        stepped = true;
        running = true;
    }

    /**
     * Stepped chaos: the first call forks the chaos-owned task pools; every later call performs
     * one seeded injection (the injector drawn by weight, as the thread would). Returns how long
     * to wait before the next call (100 µs - 1 ms, drawn from the seed), or {@code Long.MAX_VALUE}
     * once chaos has stopped or failed. Called by one thread at a time (a controlled run's
     * harness participant), which then owns what the chaos thread owns in threaded mode.
     */
    public long step() {
        if (!stepped) {
            throw new IllegalStateException("not started stepped");
        }
        if (!running || failure != null || kernel.isStopping()) {
            return Long.MAX_VALUE;
        }
        try {
            if (!setUpDone) {
                setUpDone = true;
                setUp();
                lastReloadNs = kernel.now();
            } else {
                int i = pick();
                if (i >= 0 && i != RELOAD) {
                    inject(i);
                }
            }
            return uniform(chooser, PAUSE_MIN_NS, PAUSE_MAX_NS);
        } catch (RuntimeException | Error e) {
            failure = e;
            kernel.reportBug(e);
            return Long.MAX_VALUE;
        }
    }

    /**
     * Stops injecting: ends the chaos thread (joined with a timeout, so this never hangs), removes
     * the delay hook, cancels pending kick timers and asks every chaos-owned task to exit at its
     * next step (waking those asleep). Idempotent.
     */
    public synchronized void stop() {
        running = false;
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
            joinQuietly(t, 2_000);
            if (t.isAlive()) {
                t.interrupt();
                joinQuietly(t, 1_000);
            }
        }
        if (hookInstalled) {
            RacePoint.uninstall();
            hookInstalled = false;
        }
        if (hotplugDownCpu >= 0 && (t == null || !t.isAlive())) {
            kernel.hotplug.cpuUp(hotplugDownCpu);
            hotplugDownCpu = -1;
        }
        for (KickTimer kt : kickTimers) {
            kernel.hrtimerCancel(kt.timer);
            kernel.hrtimerCancel(kt.waitDone);
        }
        for (ChaosBehavior b : owned) {
            b.exitRequested = true;
        }
        for (ChaosBehavior b : owned) {
            Task task = b.task;
            if (task != null && !task.isDead()) {
                kernel.wakeUpProcess(task);
            }
        }
    }

    private static void joinQuietly(Thread t, long ms) {
        try {
            t.join(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Injections done so far, per injector name (every name of {@link ChaosConfig#NAMES}). */
    public Map<String, Long> counts() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (int i = 0; i < COUNT; i++) {
            long n = i == DELAY ? delayHook.delays() : counts[i].get();
            m.put(NAMES.get(i), n);
        }
        return m;
    }

    /**
     * Race points the CPU threads (and every other kernel thread) reached since {@link #start}:
     * racy but benign while they run, exact once they were joined. 0 in stepped mode (a
     * controlled run counts its own steps).
     */
    public long racePointHits() {
        return delayHook.hits();
    }

    /** What ended the injections early (also reported as a kernel bug), or null. */
    public Throwable failure() {
        return failure;
    }

    // ---------------------------------------------------------------------------------------------
    // The chaos thread
    // ---------------------------------------------------------------------------------------------

    private void loop() {
        try {
            setUp();
            lastReloadNs = kernel.now();
            long speed = kernel.clock.speed();
            Clock.Warp warp = warpSlot >= 0 ? (Clock.Warp) kernel.clock : null;
            // compressed time: when the next injection is due, on the kernel clock
            long next = kernel.now();
            while (running && !kernel.isStopping()) {
                int i = pick();
                if (i >= 0) {
                    inject(i);
                }
                long pause = uniform(chooser, PAUSE_MIN_NS, PAUSE_MAX_NS);
                if (warp != null) {
                    // skipping clock: wait for the emulated deadline as a party (a skip may end it)
                    next = kernel.now() + pause;
                    for (long w = pause; w > 0 && running; w = next - kernel.now()) {
                        warp.beginWait(warpSlot, next);
                        LockSupport.parkNanos(Math.min(next - kernel.now(), 1_000_000L));
                        warp.endWait(warpSlot);
                    }
                    continue;
                }
                if (speed == 1) {
                    LockSupport.parkNanos(pause);
                    continue;
                }
                // the pauses are emulated time, so injections keep their rate per emulated second; a
                // park that overslept is caught up with back-to-back injections, within a bound
                long now = kernel.now();
                next = Math.max(next + pause, now - CATCH_UP_MAX_NS);
                long wait = (next - now) / speed;
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
            }
        } catch (RuntimeException | Error e) {
            failure = e;
            kernel.reportBug(e);
        } finally {
            if (warpSlot >= 0) {
                ((Clock.Warp) kernel.clock).unregister(warpSlot);
            }
        }
    }

    /** The injector to run next, by weight; always one draw, whatever the reload clock says. */
    private int pick() {
        int total = 0;
        for (int i = 0; i < COUNT; i++) {
            if (i != DELAY) {
                total += cfg.weight(i);
            }
        }
        if (total == 0) {
            return -1;
        }
        int r = chooser.nextInt(total);
        for (int i = 0; i < COUNT; i++) {
            if (i == DELAY) {
                continue;
            }
            r -= cfg.weight(i);
            if (r < 0) {
                return i;
            }
        }
        return -1;
    }

    private void setUp() {
        int[] classes = {RT, DL, STOP};
        for (int c = 0; c < classes.length; c++) {
            int inj = classes[c];
            if (cfg.weight(inj) == 0) {
                continue;
            }
            bursters[c] = new Burster[nrCpus];
            for (int cpu = 0; cpu < nrCpus && running; cpu++) {
                Burster b = new Burster();
                Kernel.TaskSpec spec = new Kernel.TaskSpec().comm("chaos-" + NAMES.get(inj) + "/" + cpu)
                        .allowed(CpuMask.of(cpu)).cpu(cpu).behavior(b);
                if (inj == STOP) {
                    spec.stopper();
                } else {
                    spec.policy(inj == RT ? Task.SCHED_FIFO : Task.SCHED_DEADLINE);
                }
                if (adopt(b, kernel.fork(spec))) {
                    bursters[c][cpu] = b;
                }
            }
        }
        if (cfg.weight(SLEEP) > 0) {
            for (int i = 0; i < 2 * nrCpus && running; i++) {
                forkSleeper();
            }
        }
    }

    private boolean adopt(ChaosBehavior b, Task t) {
        if (t == null) {
            return false; // ops.init_task() refused it
        }
        b.task = t;
        owned.add(b);
        return true;
    }

    private void forkSleeper() {
        Sleeper s = new Sleeper(taskSeeds.split());
        int cpu = taskSeeds.nextInt(nrCpus);
        if (adopt(s, kernel.fork(new Kernel.TaskSpec().comm("chaos-sleep").cpu(cpu).behavior(s)))) {
            sleepers.add(s);
            publishSleepers();
        }
    }

    private void publishSleepers() {
        Task[] a = new Task[sleepers.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = sleepers.get(i).task;
        }
        sleeperTasks = a;
    }

    private void inject(int i) {
        switch (i) {
            case RT:
            case DL:
            case STOP:
                injectBurst(i);
                break;
            case SLEEP:
                injectSleep();
                break;
            case AFFINITY:
                injectAffinity();
                break;
            case FORKEXIT:
                injectForkExit();
                break;
            case KICK:
                injectKick();
                break;
            case RELOAD:
                injectReload();
                break;
            case HOTPLUG:
                injectHotplug();
                break;
            default:
                throw new IllegalStateException("injector " + i);
        }
    }

    /** rt / dl / stop: a burst plan for a random CPU's pinned task, if it is idle. */
    private void injectBurst(int inj) {
        SplittableRandom r = rnd[inj];
        Burster[] pool = bursters[inj == RT ? 0 : inj == DL ? 1 : 2];
        int cpu = r.nextInt(nrCpus);
        int n = r.nextInt(4) == 0 ? 2 + r.nextInt(3) : 1;
        long[] plan = new long[2 * n];
        for (int b = 0; b < n; b++) {
            boolean longBurst = r.nextInt(8) == 0;
            plan[2 * b] = longBurst ? uniform(r, LONG_BURST_MIN_NS, LONG_BURST_MAX_NS)
                    : uniform(r, SHORT_BURST_MIN_NS, SHORT_BURST_MAX_NS);
            plan[2 * b + 1] = b == n - 1 || r.nextBoolean() ? 0 : uniform(r, 1_000L, 20_000L);
        }
        Burster b = pool == null ? null : pool[cpu];
        if (b == null || !b.idle.compareAndSet(true, false)) {
            return; // still busy with its last plan
        }
        b.mailbox.set(plan);
        kernel.wakeUpProcess(b.task);
        counts[inj].incrementAndGet();
    }

    /** sleep: wake a random sleep-pool task, or make it sleep or block at its next step. */
    private void injectSleep() {
        SplittableRandom r = rnd[SLEEP];
        int pick = r.nextInt(1 << 16);
        int what = r.nextInt(10);
        if (sleepers.isEmpty()) {
            return;
        }
        Sleeper s = sleepers.get(pick % sleepers.size());
        if (what < 6) {
            kernel.wakeUpProcess(s.task);
        } else {
            s.forced = what < 8 ? Sleeper.FORCE_SLEEP : Sleeper.FORCE_BLOCK;
        }
        counts[SLEEP].incrementAndGet();
    }

    /** affinity: a random mask for a random live ext task, running or queued. */
    private void injectAffinity() {
        SplittableRandom r = rnd[AFFINITY];
        boolean running = r.nextBoolean();
        int cpu = r.nextInt(nrCpus);
        int pick = r.nextInt(1 << 16);
        int kind = r.nextInt(10);
        long bits = r.nextLong();
        Task t = null;
        if (running) {
            Task c = kernel.rq(cpu).curr(); // racy but benign: any live task will do
            if (isExtTarget(c)) {
                t = c;
            }
        }
        if (t == null) {
            List<Task> ext = new ArrayList<>();
            for (Task c : kernel.tasks()) {
                if (isExtTarget(c)) {
                    ext.add(c);
                }
            }
            if (ext.isEmpty()) {
                return;
            }
            t = ext.get(pick % ext.size());
        }
        CpuMask mask;
        if (kind < 3 || nrCpus == 1) {
            mask = CpuMask.of(cpu);
        } else if (kind < 7) {
            int[] few = new int[nrCpus];
            int n = 0;
            for (int c = 0; c < nrCpus; c++) {
                if ((bits >>> (c & 63) & 1) != 0) {
                    few[n++] = c;
                }
            }
            mask = n == 0 ? CpuMask.of(cpu) : CpuMask.of(Arrays.copyOf(few, n));
        } else {
            mask = CpuMask.all(nrCpus);
        }
        if (kernel.setCpusAllowedPtr(t, mask) == 0) {
            counts[AFFINITY].incrementAndGet();
        }
    }

    private static boolean isExtTarget(Task t) {
        return t != null && t.schedClass() == SchedClass.EXT && !t.isDead() && (t.flags() & Task.PF_KTHREAD) == 0;
    }

    /** forkexit: fork a short-lived task, or make a chaos-owned one exit at its next step. */
    private void injectForkExit() {
        SplittableRandom r = rnd[FORKEXIT];
        boolean fork = r.nextBoolean();
        int pick = r.nextInt(1 << 16);
        if (ephemerals.removeIf(e -> e.task.isDead())) {
            // forget the dead ones for stop() too, so that the copy-on-write list stays short
            owned.removeIf(b -> b.task != null && b.task.isDead());
        }
        if (fork || (sleepers.isEmpty() && ephemerals.isEmpty())) {
            if (ephemerals.size() >= 4 * nrCpus) {
                return;
            }
            Ephemeral e = new Ephemeral(taskSeeds.split());
            int cpu = taskSeeds.nextInt(nrCpus);
            if (adopt(e, kernel.fork(new Kernel.TaskSpec().comm("chaos-fork").cpu(cpu).behavior(e)))) {
                ephemerals.add(e);
                counts[FORKEXIT].incrementAndGet();
            }
            return;
        }
        int n = sleepers.size() + ephemerals.size();
        int i = pick % n;
        ChaosBehavior victim = i < sleepers.size() ? sleepers.get(i) : ephemerals.get(i - sleepers.size());
        victim.exitRequested = true;
        kernel.wakeUpProcess(victim.task);
        if (victim instanceof Sleeper) {
            sleepers.remove(victim);
            publishSleepers();
            forkSleeper();
        } else {
            ephemerals.remove(victim);
        }
        owned.remove(victim);
        counts[FORKEXIT].incrementAndGet();
    }

    /** kick: a timer on a random CPU that kicks a random CPU, while a scheduler is loaded. */
    private void injectKick() {
        SplittableRandom r = rnd[KICK];
        int from = r.nextInt(nrCpus);
        int target = r.nextInt(nrCpus);
        long flags = KICK_FLAGS[r.nextInt(KICK_FLAGS.length)];
        long delay = r.nextInt(100_000);
        if (kernel.ext.enableState() != Ext.SCX_OPS_ENABLED) {
            return;
        }
        KickTimer kt = kickTimers[from];
        if (!kt.pending.compareAndSet(false, true)) {
            return; // its last kick has not fired yet
        }
        if ((flags & Scx.SCX_KICK_WAIT) != 0 && !waitInFlight.compareAndSet(false, true)) {
            flags &= ~Scx.SCX_KICK_WAIT; // one chaos wait at a time: no wait cycles
        }
        kt.target = target;
        kt.flags = flags;
        kernel.hrtimerStart(kt.timer, from, kernel.now() + delay);
    }

    /** The CPU the hotplug injector took down, or -1; chaos thread (read by stop() after the join). */
    private int hotplugDownCpu = -1;

    /**
     * hotplug (opt-in, not in {@code all}): takes a random CPU other than 0 offline, or brings the
     * one it took down back online. A scheduler without ops.cpu_online / cpu_offline is made to
     * exit by the kernel (UNREG_KERN, SCX_ECODE_ACT_RESTART | SCX_ECODE_RSN_HOTPLUG).
     */
    private void injectHotplug() {
        if (nrCpus < 2) {
            return;
        }
        if (hotplugDownCpu >= 0) {
            kernel.hotplug.cpuUp(hotplugDownCpu);
            hotplugDownCpu = -1;
        } else {
            int cpu = 1 + rnd[HOTPLUG].nextInt(nrCpus - 1);
            if (kernel.hotplug.cpuDown(cpu) == 0) {
                hotplugDownCpu = cpu;
            }
        }
        counts[HOTPLUG].incrementAndGet();
    }

    /** reload: unload and load the scheduler again, if the reload clock allows. */
    private void injectReload() {
        long now = kernel.now();
        if (now - lastReloadNs < reloadGapNs / Math.max(1, cfg.weight(RELOAD))) {
            return;
        }
        reload.run();
        lastReloadNs = kernel.now();
        counts[RELOAD].incrementAndGet();
    }

    private static long uniform(SplittableRandom r, long min, long max) {
        return min + (max > min ? r.nextLong(max - min + 1) : 0);
    }

    // ---------------------------------------------------------------------------------------------
    // Kick timers
    // ---------------------------------------------------------------------------------------------

    /**
     * A kicking CPU's timer: fires on that CPU's thread with no rq lock held, where
     * scx_bpf_kick_cpu() may be called, as from a BPF timer. {@code target} and {@code flags} are
     * written by the chaos thread before it arms the timer (the timer queue's lock orders them
     * before the fire) and read by the callback; {@code pending} hands the timer back.
     */
    private final class KickTimer {
        final Timer timer;
        /** Fires after the kicker's SCX_KICK_WAIT spin ended (the CPU runs timers only then). */
        final Timer waitDone;
        final AtomicBoolean pending = new AtomicBoolean();
        final int cpu;
        volatile int target;
        volatile long flags;

        KickTimer(int cpu) {
            this.cpu = cpu;
            this.timer = Timer.of("chaos-kick/" + cpu, this::fire);
            this.waitDone = Timer.of("chaos-kick-wait/" + cpu, () -> waitInFlight.set(false));
        }

        private void fire() {
            long f = flags;
            int t = target;
            pending.set(false);
            boolean kicked = false;
            if (running && kernel.ext.enableState() == Ext.SCX_OPS_ENABLED) {
                Scx.scx_bpf_kick_cpu(t, f);
                counts[KICK].incrementAndGet();
                kicked = true;
            }
            if ((f & Scx.SCX_KICK_WAIT) != 0) {
                if (kicked) {
                    // The wait runs in this CPU's next irq work; timers run again only after it.
                    kernel.hrtimerStart(waitDone, cpu, kernel.now() + 1);
                } else {
                    waitInFlight.set(false);
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Chaos-owned tasks
    // ---------------------------------------------------------------------------------------------

    /** A chaos-owned task's behaviour: it exits at its next step once asked. */
    private abstract static class ChaosBehavior implements Behavior {
        /** Set by the chaos thread (or stop()); read by the task. */
        volatile boolean exitRequested;
        /** Set once by the chaos thread after the fork. */
        volatile Task task;
    }

    /**
     * An rt, dl or stop task: asleep until the chaos thread hands it a plan (burst, gap, burst,
     * gap...; a gap of 0 runs the next burst back to back), then runs it and sleeps again.
     */
    private final class Burster extends ChaosBehavior {
        /** The next plan; the chaos thread sets it while {@code idle}, the task takes it. */
        final AtomicReference<long[]> mailbox = new AtomicReference<>();
        /** No plan pending or running: the chaos thread may hand it one. */
        final AtomicBoolean idle = new AtomicBoolean(true);
        /** The plan being run and its position; owned by the CPU thread running the task. */
        private long[] plan;
        private int pos;

        @Override
        public void next(Task self, Step step, long nowNs) {
            for (;;) {
                if (exitRequested) {
                    step.exit();
                    return;
                }
                if (plan != null && pos < plan.length) {
                    long v = plan[pos++];
                    if ((pos & 1) == 1) {
                        step.run(v);
                        return;
                    }
                    if (v > 0) {
                        step.sleep(v);
                        return;
                    }
                    continue;
                }
                if (plan != null) {
                    plan = null;
                    idle.set(true);
                }
                // set_current_state() before looking at the mailbox: a plan handed over after
                // the look finds the task INTERRUPTIBLE and its wakeup is not lost.
                kernel.prepareToWait(self);
                long[] p = mailbox.getAndSet(null);
                if (p == null) {
                    if (exitRequested) {
                        kernel.finishWait(self);
                        continue;
                    }
                    step.block();
                    return;
                }
                kernel.finishWait(self);
                plan = p;
                pos = 0;
            }
        }
    }

    /** A sleep-pool task: runs, then sleeps, blocks, wakes a peer or yields, at random. */
    private final class Sleeper extends ChaosBehavior {
        static final int FORCE_SLEEP = 1;
        static final int FORCE_BLOCK = 2;
        /** Set by the chaos thread: sleep or block at the next step. */
        volatile int forced;
        /** Owned by the CPU thread running the task. */
        private final SplittableRandom r;
        private boolean ran;

        Sleeper(SplittableRandom r) {
            this.r = r;
        }

        @Override
        public void next(Task self, Step step, long nowNs) {
            if (exitRequested) {
                step.exit();
                return;
            }
            int f = forced;
            if (f != 0) {
                forced = 0;
                ran = false;
                if (f == FORCE_SLEEP) {
                    step.sleep(uniform(r, 10_000L, 1_000_000L));
                } else {
                    block(self, step);
                }
                return;
            }
            if (!ran) {
                ran = true;
                step.run(uniform(r, 10_000L, 2_000_000L));
                return;
            }
            ran = false;
            int what = r.nextInt(10);
            if (what < 4) {
                step.sleep(uniform(r, 10_000L, 2_000_000L));
            } else if (what < 7) {
                block(self, step);
            } else if (what < 9) {
                Task[] peers = sleeperTasks;
                if (peers.length > 0) {
                    kernel.wakeUpProcess(peers[r.nextInt(peers.length)]);
                }
                ran = true;
                step.run(uniform(r, 5_000L, 100_000L));
            } else {
                step.yield();
            }
        }

        private void block(Task self, Step step) {
            kernel.prepareToWait(self);
            if (exitRequested) {
                kernel.finishWait(self);
                step.exit();
                return;
            }
            step.block();
        }
    }

    /** A forked task that runs briefly (with a short sleep half the time) and exits. */
    private final class Ephemeral extends ChaosBehavior {
        /** Owned by the CPU thread running the task. */
        private final SplittableRandom r;
        private int stage;
        private final boolean sleeps;

        Ephemeral(SplittableRandom r) {
            this.r = r;
            this.sleeps = r.nextBoolean();
        }

        @Override
        public void next(Task self, Step step, long nowNs) {
            if (exitRequested) {
                step.exit();
                return;
            }
            switch (stage++) {
                case 0:
                    step.run(uniform(r, 10_000L, 1_000_000L));
                    break;
                case 1:
                    if (sleeps) {
                        step.sleep(uniform(r, 10_000L, 200_000L));
                        break;
                    }
                    step.exit();
                    break;
                case 2:
                    step.run(uniform(r, 10_000L, 500_000L));
                    break;
                default:
                    step.exit();
                    break;
            }
        }
    }
}
