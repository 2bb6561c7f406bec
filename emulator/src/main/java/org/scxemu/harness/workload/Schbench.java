// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.workload;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;
import org.scxemu.kernel.Behavior;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.Step;
import org.scxemu.kernel.Task;

/**
 * {@code schbench}: message threads waking worker threads, as Chris Mason's schbench does. Each of
 * {@code messageThreads} message threads owns {@code workersPerCpu * cpus / messageThreads} (at
 * least one) workers. A worker that has finished a request puts itself on its message thread's
 * list (an {@code idle} flag) and wakes it, then blocks; the message thread wakes every listed
 * worker, stamping the time, then blocks until one is listed again. A woken worker records its
 * <em>wakeup latency</em> (stamp to running), runs a request of {@code requestMin..requestMax}
 * of CPU, and records its <em>request latency</em> (stamp to done). Reported in schbench's own
 * shape: wakeup and request latency percentiles in µs (50.0th, 90.0th, 99.0th, 99.9th, max, with
 * the sample count), and requests per second.
 *
 * <p>Threads: a worker's {@code wakeAtNs} and {@code idle} are volatile, written by its message
 * thread and itself on whichever CPU threads run them; its histograms and counters are owned by
 * the CPU thread running it (one at a time, ordered by the core) and are read by {@link #report}
 * after the CPU threads are joined. Recording allocates nothing.
 */
public final class Schbench implements Workload {
    public static final String NAME = "schbench";
    /** Latencies above this are clamped (HdrHistogram's range): 100 s. */
    private static final long MAX_LATENCY_NS = 100_000_000_000L;

    private final int messageThreads;
    private final int workersPerCpu;
    private final long requestMinNs;
    private final long requestMaxNs;
    private final long wakeCostNs;
    /** Written by start() on the harness thread, read by report() after the run. */
    private final List<Messenger> messengers = new ArrayList<>();
    private final List<Worker> workers = new ArrayList<>();
    private long startNs;
    private Kernel kernel;

    /** The defaults: 2 message threads, 2 workers per CPU, requests of 50-150 us. */
    public Schbench() {
        this(2, 2, 50_000L, 150_000L);
    }

    public Schbench(int messageThreads, int workersPerCpu, long requestMinNs, long requestMaxNs) {
        if (messageThreads < 1 || workersPerCpu < 1) {
            throw new IllegalArgumentException("messageThreads and workersPerCpu must be >= 1");
        }
        Phases.checkRange("request", requestMinNs, requestMaxNs);
        this.messageThreads = messageThreads;
        this.workersPerCpu = workersPerCpu;
        this.requestMinNs = requestMinNs;
        this.requestMaxNs = requestMaxNs;
        this.wakeCostNs = 1_000L;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "schbench: " + messageThreads + " message threads waking " + workersPerCpu + " x cpus workers that run "
                + requestMinNs / 1000 + "-" + requestMaxNs / 1000
                + " us requests; wakeup/request latency p50-p99.9/max (us) and requests/s";
    }

    /** A worker: woken by its message thread, serves one request, lists itself again. */
    private final class Worker implements Behavior {
        final SplittableRandom rnd;
        final Messenger owner;
        final Histogram wakeup = new Histogram(MAX_LATENCY_NS, 3);
        final Histogram request = new Histogram(MAX_LATENCY_NS, 3);
        volatile long wakeAtNs;
        volatile boolean idle = true;
        Task task;
        boolean inRequest;
        long servedAt;
        long requests;
        long lastDoneNs = -1;

        Worker(SplittableRandom rnd, Messenger owner) {
            this.rnd = rnd;
            this.owner = owner;
        }

        @Override
        public void next(Task self, Step step, long nowNs) {
            if (inRequest) {
                inRequest = false;
                request.recordValue(Math.min(MAX_LATENCY_NS, Math.max(0, nowNs - servedAt)));
                requests++;
                lastDoneNs = nowNs;
                wakeAtNs = 0;
                idle = true;
                kernel.wakeUpProcess(owner.task);
            }
            kernel.prepareToWait(self);
            long at = wakeAtNs;
            if (at != 0) {
                kernel.finishWait(self);
                wakeup.recordValue(Math.min(MAX_LATENCY_NS, Math.max(0, nowNs - at)));
                servedAt = at;
                inRequest = true;
                step.run(Phases.uniform(rnd, requestMinNs, requestMaxNs));
            } else {
                step.block();
            }
        }
    }

    /** A message thread: wakes its listed workers, blocks until one lists itself again. */
    private final class Messenger implements Behavior {
        final List<Worker> mine = new ArrayList<>();
        Worker[] ws;
        /**
         * Its task: set by its own first run, before it wakes any worker (a worker may finish a
         * request and wake it before fork() has even returned to the harness).
         */
        volatile Task task;
        long wakeups;

        @Override
        public void next(Task self, Step step, long nowNs) {
            if (task == null) {
                task = self;
            }
            kernel.prepareToWait(self);
            int woke = 0;
            for (Worker w : ws) {
                if (w.idle) {
                    w.idle = false;
                    w.wakeAtNs = Math.max(1, kernel.now()); // 0 means "not woken"
                    kernel.wakeUpProcess(w.task);
                    woke++;
                }
            }
            if (woke > 0) {
                kernel.finishWait(self);
                wakeups += woke;
                step.run(wakeCostNs * woke);
            } else {
                step.block();
            }
        }
    }

    @Override
    public void start(Kernel k, int cpus, long seed) {
        this.kernel = k;
        this.startNs = k.now();
        SplittableRandom root = new SplittableRandom(seed);
        int perMessenger = Math.max(1, workersPerCpu * cpus / messageThreads);
        for (int m = 0; m < messageThreads; m++) {
            Messenger msg = new Messenger();
            for (int i = 0; i < perMessenger; i++) {
                Worker w = new Worker(root.split(), msg);
                w.wakeAtNs = 0;
                msg.mine.add(w);
            }
            msg.ws = msg.mine.toArray(new Worker[0]);
            messengers.add(msg);
        }
        // workers first, blocked until their message thread stamps them; then the message threads
        int n = 0;
        for (Messenger msg : messengers) {
            for (Worker w : msg.ws) {
                w.idle = false; // not listed until it has been forked
                w.task = k.fork(new Kernel.TaskSpec().comm("schbench-w" + n).cpu(n % cpus).behavior(w));
                w.idle = w.task != null;
                workers.add(w);
                n++;
            }
        }
        for (int m = 0; m < messengers.size(); m++) {
            Messenger msg = messengers.get(m);
            k.fork(new Kernel.TaskSpec().comm("schbench-m" + m).cpu(m % cpus).behavior(msg));
        }
    }

    /** A latency histogram in schbench's shape, in µs. */
    private static Map<String, Object> percentiles(Histogram h) {
        Map<String, Object> m = new LinkedHashMap<>();
        boolean empty = h.getTotalCount() == 0;
        m.put("samples", h.getTotalCount());
        m.put("p50", empty ? 0.0 : h.getValueAtPercentile(50.0) / 1000.0);
        m.put("p90", empty ? 0.0 : h.getValueAtPercentile(90.0) / 1000.0);
        m.put("p99", empty ? 0.0 : h.getValueAtPercentile(99.0) / 1000.0);
        m.put("p99.9", empty ? 0.0 : h.getValueAtPercentile(99.9) / 1000.0);
        m.put("max", empty ? 0.0 : h.getMaxValue() / 1000.0);
        return m;
    }

    @Override
    public Map<String, Object> report() {
        Histogram wake = new Histogram(MAX_LATENCY_NS, 3);
        Histogram req = new Histogram(MAX_LATENCY_NS, 3);
        long requests = 0;
        long lastNs = startNs;
        for (Worker w : workers) {
            wake.add(w.wakeup);
            req.add(w.request);
            requests += w.requests;
            lastNs = Math.max(lastNs, w.lastDoneNs);
        }
        long wakeups = 0;
        for (Messenger msg : messengers) {
            wakeups += msg.wakeups;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("message_threads", (long) messengers.size());
        m.put("workers", (long) workers.size());
        m.put("wakeup_latency_us", percentiles(wake));
        m.put("request_latency_us", percentiles(req));
        m.put("requests", requests);
        m.put("wakeups", wakeups);
        long span = lastNs - startNs;
        m.put("runtime_s", span / 1e9);
        m.put("requests_per_sec", span <= 0 ? 0.0 : requests * 1e9 / span);
        return m;
    }
}
