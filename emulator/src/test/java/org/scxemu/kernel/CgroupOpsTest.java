// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.scx.Scx.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.scxemu.scx.SchedExtOps;

/**
 * 6.12's cgroup ops (ext.c scx_tg_online/offline, scx_cgroup_can_attach/move_task/cancel,
 * scx_group_set_weight, scx_cgroup_init/exit), sched_setscheduler() between fair and ext, and
 * the hotplug ops, each in the order and with the arguments the kernel gives.
 */
class CgroupOpsTest {

    /** Records every cgroup op as "op(args)". */
    static class Recorder implements SchedExtOps {
        final List<String> log = new ArrayList<>();
        int prepMoveRet;
        int cgroupInitRet;
        final List<Cgroup> initTaskCgroups = new ArrayList<>();

        @Override
        public String name() {
            return "cgrec";
        }

        @Override
        public long flags() {
            return SCX_OPS_HAS_CGROUP_WEIGHT | SCX_OPS_SWITCH_PARTIAL;
        }

        private synchronized void rec(String s) {
            log.add(s);
        }

        synchronized List<String> log() {
            return new ArrayList<>(log);
        }

        @Override
        public synchronized int initTask(Task p, InitTaskArgs args) {
            initTaskCgroups.add(args.cgroup());
            return 0;
        }

        @Override
        public int cgroupInit(Cgroup cgrp, CgroupInitArgs args) {
            rec("init(" + cgrp.path() + "," + args.weight() + ")");
            return cgrp.path().equals("/bad") ? cgroupInitRet : 0;
        }

        @Override
        public void cgroupExit(Cgroup cgrp) {
            rec("exit(" + cgrp.path() + ")");
        }

        @Override
        public int cgroupPrepMove(Task p, Cgroup from, Cgroup to) {
            rec("prep_move(" + p.comm + "," + from.path() + "," + to.path() + ")");
            return p.comm.equals("refused") ? prepMoveRet : 0;
        }

        @Override
        public void cgroupMove(Task p, Cgroup from, Cgroup to) {
            rec("move(" + p.comm + "," + from.path() + "," + to.path() + ")");
        }

        @Override
        public void cgroupCancelMove(Task p, Cgroup from, Cgroup to) {
            rec("cancel_move(" + p.comm + "," + from.path() + "," + to.path() + ")");
        }

        @Override
        public void cgroupSetWeight(Cgroup cgrp, int weight) {
            rec("set_weight(" + cgrp.path() + "," + weight + ")");
        }
    }

    @Test
    void loadInitsExistingGroupsParentsFirstAndUnloadExitsChildrenFirst() {
        try (Stepped s = new Stepped(2, CoreProfile.V6_12)) {
            Cgroups cg = s.k.cgroups;
            assertNotNull(cg.mkdirP("/a/b"));
            assertEquals(0, cg.setWeight(cg.lookup("/a"), 300));
            Recorder r = new Recorder();
            assertEquals(0, s.load(r));
            assertEquals(List.of("init(/,100)", "init(/a,300)", "init(/a/b,100)"), r.log());
            r.log.clear();
            s.ext.unload();
            assertEquals(List.of("exit(/a/b)", "exit(/a)", "exit(/)"), r.log());
        }
    }

    @Test
    void mkdirRmdirWeightAndMovesWhileLoaded() {
        try (Stepped s = new Stepped(2, CoreProfile.V6_12)) {
            Cgroups cg = s.k.cgroups;
            Recorder r = new Recorder();
            assertEquals(0, s.load(r));
            r.log.clear();
            Cgroup a = cg.mkdirP("/a");
            assertEquals(1, a.level());
            Task t = s.fork("t");
            assertSame(cg.root(), r.initTaskCgroups.get(r.initTaskCgroups.size() - 1), "init_task's args.cgroup");
            assertEquals(0, cg.attach(t, a));
            assertEquals(0, cg.attach(t, a), "an identity move calls nothing");
            assertEquals(a.id, t.cgroupId());
            assertEquals(0, cg.setWeight(a, 100), "unchanged weight: no op");
            assertEquals(0, cg.setWeight(a, 50));
            assertEquals(-EINVAL, cg.setWeight(a, 0));
            assertEquals(-EBUSY, cg.rmdir("/a"), "a group with a task");
            assertEquals(0, cg.attach(t, cg.root()));
            assertEquals(0, cg.rmdir("/a"));
            assertEquals(-ENOENT, cg.rmdir("/a"));
            assertEquals(List.of("init(/a,100)", "prep_move(t,/,/a)", "move(t,/,/a)", "set_weight(/a,50)",
                    "prep_move(t,/a,/)", "move(t,/a,/)", "exit(/a)"), r.log());
            s.settle();
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind(), s.ext.exitInfo().msg());
        }
    }

    @Test
    void refusedPrepMoveCancelsTheTasksAlreadyPrepared() {
        try (Stepped s = new Stepped(2, CoreProfile.V6_12)) {
            Cgroups cg = s.k.cgroups;
            Recorder r = new Recorder();
            r.prepMoveRet = -EPERM;
            Task ok = s.fork("ok");
            Task refused = s.fork("refused");
            assertEquals(0, s.load(r));
            Cgroup b = cg.mkdirP("/b");
            r.log.clear();
            assertEquals(-EPERM, cg.attach(List.of(ok, refused), b));
            assertEquals(List.of("prep_move(ok,/,/b)", "prep_move(refused,/,/b)", "cancel_move(ok,/,/b)"), r.log());
            assertEquals(0, ok.cgroupId(), "nothing moved");
            assertNull(ok.scx.cgrpMovingFrom);
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind(), "a refused move is no error");
        }
    }

    @Test
    void refusingCgroupInitFailsTheMkdirWhileLoadedAndEjectsAtLoad() {
        try (Stepped s = new Stepped(2, CoreProfile.V6_12)) {
            Recorder r = new Recorder();
            r.cgroupInitRet = -ENOMEM;
            assertEquals(0, s.load(r));
            assertNull(s.k.cgroups.mkdirP("/bad"), "cgroup_init refused the new group");
            assertNull(s.k.cgroups.lookup("/bad"));
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind());
            s.ext.unload();
        }
        try (Stepped s = new Stepped(2, CoreProfile.V6_12)) {
            assertNotNull(s.k.cgroups.mkdirP("/bad"));
            Recorder r = new Recorder();
            r.cgroupInitRet = -ENOMEM;
            assertEquals(0, s.load(r));
            ExitInfo ei = s.finishExit();
            assertEquals("ERROR", ei.kindName());
            assertEquals("ops.cgroup_init() failed (-12)", ei.msg());
        }
    }

    @Test
    void v7HasNoCgroupSupport() {
        try (Stepped s = new Stepped(2, CoreProfile.V7)) {
            s.k.cgroups.mkdirP("/a");
            Recorder r = new Recorder() {
                @Override
                public long flags() {
                    return SCX_OPS_SWITCH_PARTIAL;
                }
            };
            assertEquals(0, s.load(r));
            Task t = s.fork("t");
            assertEquals(0, s.k.cgroups.attach(t, s.k.cgroups.lookup("/a")));
            s.ext.unload();
            assertEquals(List.of(), r.log());
            assertNull(r.initTaskCgroups.get(0), "v7's init_task args have no cgroup");
        }
        try (Stepped s = new Stepped(2, CoreProfile.V7)) {
            assertEquals(-EINVAL, s.load(new Recorder()), "SCX_OPS_HAS_CGROUP_WEIGHT is not a v7 flag");
        }
    }

    @Test
    void setschedulerMovesTasksBetweenFairAndExtInPartialMode() {
        try (Stepped s = new Stepped(2, CoreProfile.V6_12)) {
            List<String> log = new ArrayList<>();
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "partial";
                }

                @Override
                public long flags() {
                    return SCX_OPS_SWITCH_PARTIAL;
                }

                @Override
                public synchronized int initTask(Task p, InitTaskArgs args) {
                    if (p.comm.equals("disallowed")) {
                        p.scx.disallow = true;
                    }
                    return 0;
                }

                @Override
                public synchronized void enable(Task p) {
                    log.add("enable " + p.comm);
                }

                @Override
                public synchronized void disable(Task p) {
                    log.add("disable " + p.comm);
                }

                @Override
                public synchronized void setWeight(Task p, int weight) {
                    log.add("set_weight " + p.comm + " " + weight);
                }
            }));
            Task t = s.fork("t");
            s.settle();
            assertEquals(SchedClass.FAIR, t.schedClass());
            assertEquals(0, s.k.schedSetscheduler(t, Task.SCHED_EXT));
            assertEquals(SchedClass.EXT, t.schedClass());
            assertEquals(0, s.k.setUserNice(t, 10));
            s.runFor(3_000_000L, 1_000_000L);
            assertTrue(t.sumExecRuntime() > 0);
            assertEquals(0, s.k.schedSetscheduler(t, Task.SCHED_NORMAL));
            assertEquals(SchedClass.FAIR, t.schedClass());
            assertEquals(-EINVAL, s.k.schedSetscheduler(t, Task.SCHED_DEADLINE));
            Task d = s.fork("disallowed");
            assertEquals(-EACCES, s.k.schedSetscheduler(d, Task.SCHED_EXT));
            assertEquals(SchedClass.FAIR, d.schedClass());
            synchronized (this) {
                // leaving ext reweights through the old class first (set_load_weight() in
                // __setscheduler_params()), as the kernel does
                assertEquals(List.of("enable t", "set_weight t 100", "set_weight t 11", "set_weight t 11",
                        "disable t"), log);
            }
            s.ext.unload();
            // with no scheduler, SCHED_EXT tasks run on fair, and move to ext at the next load
            assertEquals(0, s.k.schedSetscheduler(t, Task.SCHED_EXT));
            assertEquals(SchedClass.FAIR, t.schedClass());
        }
    }

    @Test
    void hotplugCallsTheOpsAndCountsTheSequence() {
        try (Stepped s = new Stepped(3, CoreProfile.V6_12)) {
            List<String> log = new ArrayList<>();
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "hp";
                }

                @Override
                public synchronized void cpuOnline(int cpu) {
                    log.add("online " + cpu);
                }

                @Override
                public synchronized void cpuOffline(int cpu) {
                    log.add("offline " + cpu);
                }
            }));
            Hotplug hp = s.k.hotplug;
            long seq = hp.seq();
            assertEquals(0, hp.cpuDown(2));
            assertEquals(0, hp.cpuDown(2), "already offline: nothing happens");
            assertTrue(!hp.isOnline(2) && !Ext.scxRqOnline(s.rq(2)));
            assertEquals(0, hp.cpuDown(1));
            assertEquals(-EBUSY, hp.cpuDown(0), "the last online CPU");
            assertEquals(-EINVAL, hp.cpuDown(3));
            assertEquals(0, hp.cpuUp(1));
            assertEquals(0, hp.cpuUp(2));
            assertEquals(seq + 4, hp.seq());
            Task t = s.fork("t");
            s.runFor(3_000_000L, 1_000_000L);
            assertTrue(t.sumExecRuntime() > 0);
            synchronized (this) {
                assertEquals(List.of("offline 2", "offline 1", "online 1", "online 2"), log);
            }
            assertEquals(SCX_EXIT_NONE, s.ext.exitKind(), s.ext.exitInfo().msg());
        }
    }

    @Test
    void forkPathProcessorIdIsACpuAndPrandomFollowsTheSeed() {
        int[] seen = {-2};
        try (Stepped s = new Stepped(2, CoreProfile.V6_12)) {
            assertEquals(0, s.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "cpuid";
                }

                @Override
                public int initTask(Task p, InitTaskArgs args) {
                    if (args.fork()) {
                        seen[0] = bpf_get_smp_processor_id();
                    }
                    return 0;
                }
            }));
            s.fork(new Kernel.TaskSpec().comm("f").cpu(1).behavior(Behavior.cpuBound(MS_1)));
            assertEquals(1, seen[0], "the forking context stands in for the task's CPU, never -1");
            s.ext.unload();
        }
        int[][] draws = new int[3][];
        long[] seeds = {7, 7, 8};
        for (int i = 0; i < 3; i++) {
            try (Stepped s = new Stepped(1, CoreProfile.V6_12)) {
                s.k.seedPrandom(seeds[i]);
                assertEquals(0, s.load(() -> "prandom"));
                draws[i] = new int[] {bpf_get_prandom_u32(), bpf_get_prandom_u32(), bpf_get_prandom_u32()};
                s.ext.unload();
            }
        }
        assertTrue(java.util.Arrays.equals(draws[0], draws[1]), "same seed, same stream");
        assertTrue(!java.util.Arrays.equals(draws[0], draws[2]), "the seed chooses");
    }

    private static final long MS_1 = 1_000_000L;
}
