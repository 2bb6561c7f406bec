// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.scx.Scx.*;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.scxemu.schedulers.ScxQmap612;

/**
 * 6.12's scx_qmap on a stepped machine: -H boosting moves nice -20 tasks through HIGHPRI_DSQ with
 * the DSQ iterator and dispatch_from_dsq (from ops.dispatch() and from the unlocked timer), tick
 * sets cpuperf targets, -P prints SHARED_DSQ in reverse; under v7 it is refused at its first
 * 6.12 kfunc.
 */
class Qmap612Test {
    private static final long MS = 1_000_000L;

    @Test
    void highpriTasksAreExpeditedThroughTheHighpriDsq() {
        ScxQmap612.Options o = new ScxQmap612.Options();
        o.highpriBoosting = true;
        // batches of 8 leave a backlog on SHARED_DSQ for the boosting walk to find
        o.dspBatch = 8;
        ScxQmap612 q = new ScxQmap612(o);
        try (Stepped s = new Stepped(2, CoreProfile.V6_12)) {
            assertEquals(0, s.load(q));
            for (int i = 0; i < 12; i++) {
                s.fork(new Kernel.TaskSpec().comm("w" + i).behavior(Stepped.sleeper(3 * MS, 1 * MS)));
            }
            Task hi = s.fork(new Kernel.TaskSpec().comm("hi").nice(-20).behavior(Stepped.sleeper(2 * MS, 1 * MS)));
            s.runFor(1500 * MS, MS);
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind(), () -> String.valueOf(s.ext.exitInfo().msg()));
            Map<String, Long> st = q.stats();
            long expedited = st.get("nr_expedited_local") + st.get("nr_expedited_remote");
            assertTrue(expedited > 0, "boosted through HIGHPRI_DSQ: " + st);
            assertTrue(hi.sumExecRuntime() > 0);
            assertTrue(s.kfuncCalls(Kfunc.DISPATCH_VTIME_FROM_DSQ) > 0);
            assertTrue(s.kfuncCalls(Kfunc.DISPATCH_FROM_DSQ_SET_SLICE) > 0);
            assertTrue(s.kfuncCalls(Kfunc.DISPATCH_FROM_DSQ) >= expedited);
            // the one-second monitor ran: cpuperf gathered, targets set by ops.tick()
            assertEquals(SCX_CPUPERF_ONE, (long) st.get("cpuperf_max"));
            assertTrue(s.kfuncCalls(Kfunc.CPUPERF_SET) > 0);
            assertTrue(st.get("cpuperf_target_max") > 0, st.toString());
            s.m.unload();
            assertEquals("UNREG", s.ext.exitInfo().kindName());
        }
    }

    @Test
    void tickSetsTheCpuperfTargetFromTheWeights() {
        ScxQmap612 q = new ScxQmap612();
        try (Stepped s = new Stepped(1, CoreProfile.V6_12)) {
            assertEquals(0, s.load(q));
            s.fork(new Kernel.TaskSpec().comm("hog").nice(-20).behavior(Behavior.cpuBound(1000 * MS)));
            s.runFor(100 * MS, MS);
            // the running average of weight 8668 climbs past 400: the top quarter step
            assertEquals(SCX_CPUPERF_ONE, s.rq(0).scx.cpuperfTarget());
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
        }
    }

    @Test
    void printsTheSharedDsqInReverseAndTheCpuMap() {
        ScxQmap612.Options o = new ScxQmap612.Options();
        o.printSharedDsq = true;
        o.dspBatch = 8;
        ScxQmap612 q = new ScxQmap612(o);
        try (Stepped s = new Stepped(2, CoreProfile.V6_12)) {
            assertEquals(0, s.load(q));
            assertEquals("CPUS: |OO", q.printk().get(0));
            for (int i = 0; i < 10; i++) {
                s.fork(new Kernel.TaskSpec().comm("w" + i).behavior(Behavior.cpuBound(1000 * MS)));
            }
            s.runFor(1100 * MS, 5 * MS);
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
            assertTrue(s.kfuncCalls(Kfunc.CPUPERF_CUR) >= 2, "the monitor ran");
            List<String> out = q.printk();
            int at = -1;
            for (int i = 0; i < out.size(); i++) {
                if (out.get(i).startsWith("Dumping ")) {
                    at = i;
                }
            }
            assertTrue(at > 0, "SHARED_DSQ printed: " + out);
            int n = Integer.parseInt(out.get(at).split(" ")[1]);
            assertEquals("Dumping " + n + " tasks in SHARED_DSQ in reverse order", out.get(at));
            assertEquals(at + 1 + n, out.size(), "one line per task: " + out);
            for (int i = at + 1; i < out.size(); i++) {
                assertTrue(out.get(i).matches("w\\d+\\[\\d+\\]"), out.get(i));
            }
        }
    }

    @Test
    void underV7ItIsRefusedAtItsFirst612Kfunc() {
        try (Stepped s = new Stepped(1, CoreProfile.V7)) {
            assertEquals(0, s.load(new ScxQmap612()));
            s.fork("t");
            s.runFor(5 * MS, MS);
            ExitInfo ei = s.finishExit();
            assertEquals("ERROR", ei.kindName());
            // whichever 6.12 kfunc it reaches first (ops.tick()'s cpuperf_set, ops.dispatch()'s iterator)
            assertTrue(ei.msg().matches("kfunc \\w+\\(\\) does not exist in kernel v7 \\(from 6\\.12\\)"), ei.msg());
        }
    }
}
