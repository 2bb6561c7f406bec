// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.workload;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.scxemu.kernel.Behavior;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.Step;
import org.scxemu.kernel.Task;

/**
 * {@code hackbench}: the shape of {@code perf bench sched messaging}. {@code groups} groups, each
 * of {@code fds} senders and {@code fds} receivers; every sender sends {@code loops} messages to
 * every receiver of its group (round robin over the receivers, as hackbench writes to each fd in
 * turn), each message costing {@code sendNs} of CPU to the sender and {@code recvNs} to the
 * receiver. A receiver whose mailbox is empty blocks ({@link Kernel#prepareToWait}, check,
 * {@link Step#block()}); a sender wakes the receiver it wrote to ({@link Kernel#wakeUpProcess}).
 * Every task exits when it is done; the figure is the total time, from the fork of the first task
 * to the last message received (hackbench's {@code Time:}).
 *
 * <p>Mailboxes are unbounded (a sender never blocks on a full pipe), a simplification.
 *
 * <p>Threads: a mailbox is an {@link AtomicLong} written by the senders and the receiver on
 * whichever CPU threads run them; each behaviour's other fields are owned by the CPU thread running
 * its task. {@link #report} reads them after the CPU threads are joined.
 */
public final class Hackbench implements Workload {
    public static final String NAME = "hackbench";

    private final int groups;
    private final int fds;
    private final int loops;
    private final long sendNs;
    private final long recvNs;
    /** Written by start() on the harness thread, read by report() after the run. */
    private final List<Sender> senders = new ArrayList<>();
    private final List<Receiver> receivers = new ArrayList<>();
    private Kernel kernel;
    private long startNs;

    /** The defaults: 4 groups of 10 senders and 10 receivers, 20 messages from each sender to each receiver. */
    public Hackbench() {
        this(4, 10, 20, 2_000L, 2_000L);
    }

    public Hackbench(int groups, int fds, int loops, long sendNs, long recvNs) {
        if (groups < 1 || fds < 1 || loops < 1) {
            throw new IllegalArgumentException("groups, fds and loops must be >= 1");
        }
        Phases.checkRange("send", sendNs, sendNs);
        Phases.checkRange("recv", recvNs, recvNs);
        this.groups = groups;
        this.fds = fds;
        this.loops = loops;
        this.sendNs = sendNs;
        this.recvNs = recvNs;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "perf bench sched messaging: " + groups + " groups of " + fds + " senders x " + fds
                + " receivers, " + loops + " messages per sender per receiver; receivers block on an empty mailbox;"
                + " reports the total time";
    }

    /** One receiver: its mailbox and how many messages it has taken. */
    private final class Receiver implements Behavior {
        final AtomicLong mailbox = new AtomicLong();
        final long expected;
        Task task;
        long received;
        long blocks;
        long doneNs = -1;

        Receiver(long expected) {
            this.expected = expected;
        }

        @Override
        public void next(Task self, Step step, long nowNs) {
            if (received == expected) {
                doneNs = nowNs;
                step.exit();
                return;
            }
            kernel.prepareToWait(self);
            if (mailbox.get() > 0) {
                kernel.finishWait(self);
                mailbox.decrementAndGet();
                received++;
                step.run(recvNs);
            } else {
                blocks++;
                step.block();
            }
        }
    }

    /** One sender: writes to each receiver of its group in turn, {@code loops} rounds. */
    private final class Sender implements Behavior {
        final Receiver[] to;
        Task task;
        long sent;
        long wakeups;

        Sender(Receiver[] to) {
            this.to = to;
        }

        @Override
        public void next(Task self, Step step, long nowNs) {
            if (sent == (long) loops * to.length) {
                step.exit();
                return;
            }
            Receiver r = to[(int) (sent % to.length)];
            r.mailbox.incrementAndGet();
            sent++;
            if (kernel.wakeUpProcess(r.task)) {
                wakeups++;
            }
            step.run(sendNs);
        }
    }

    @Override
    public void start(Kernel k, int cpus, long seed) {
        this.kernel = k;
        SplittableRandom root = new SplittableRandom(seed);
        this.startNs = k.now();
        for (int g = 0; g < groups; g++) {
            Receiver[] rs = new Receiver[fds];
            // receivers first, so senders have a task to wake (hackbench forks them first too)
            for (int i = 0; i < fds; i++) {
                rs[i] = new Receiver((long) fds * loops);
                rs[i].task = k.fork(new Kernel.TaskSpec().comm("hb-recv-" + g + "-" + i)
                        .cpu(root.nextInt(cpus)).behavior(rs[i]));
                receivers.add(rs[i]);
            }
            for (int i = 0; i < fds; i++) {
                Sender s = new Sender(rs);
                s.task = k.fork(new Kernel.TaskSpec().comm("hb-send-" + g + "-" + i)
                        .cpu(root.nextInt(cpus)).behavior(s));
                senders.add(s);
            }
        }
    }

    @Override
    public Map<String, Object> report() {
        Map<String, Object> m = new LinkedHashMap<>();
        long sent = 0;
        long wakeups = 0;
        for (Sender s : senders) {
            sent += s.sent;
            wakeups += s.wakeups;
        }
        long received = 0;
        long blocks = 0;
        long done = 0;
        long lastNs = -1;
        for (Receiver r : receivers) {
            received += r.received;
            blocks += r.blocks;
            if (r.doneNs >= 0) {
                done++;
                lastNs = Math.max(lastNs, r.doneNs);
            }
        }
        boolean completed = done == receivers.size();
        m.put("groups", (long) groups);
        m.put("senders", (long) senders.size());
        m.put("receivers", (long) receivers.size());
        m.put("loops", (long) loops);
        m.put("messages_expected", (long) groups * fds * fds * loops);
        m.put("messages_sent", sent);
        m.put("messages_received", received);
        m.put("receiver_blocks", blocks);
        m.put("wakeups", wakeups);
        m.put("completed", completed);
        m.put("total_time_ns", completed ? lastNs - startNs : -1L);
        m.put("total_time_s", completed ? (lastNs - startNs) / 1e9 : -1.0);
        return m;
    }
}
