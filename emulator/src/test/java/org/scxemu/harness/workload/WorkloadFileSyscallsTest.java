// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.scx.Scx.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.scxemu.harness.Machine;
import org.scxemu.kernel.Cgroup;
import org.scxemu.kernel.CoreProfile;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.SchedClass;
import org.scxemu.kernel.Task;
import org.scxemu.kernel.Tracer;
import org.scxemu.scx.SchedExtOps;

/**
 * Workload files with SCHED_EXT tasks, cgroups and syscall phases (sched_setscheduler, nice, a
 * cgroup move, a CPU taken down and up), run under a partial-mode 6.12 scheduler.
 */
class WorkloadFileSyscallsTest {
    @TempDir
    Path dir;

    private static final String FILE = String.join("\n",
            "{\"tasks\": [",
            " {\"name\": \"ext\", \"count\": 2, \"policy\": \"ext\", \"cgroup\": \"/a/b\",",
            "  \"phases\": [{\"run_ns\": 500000}, {\"sleep_ns\": 500000}]},",
            " {\"name\": \"flip\", \"loop\": 3, \"phases\": [{\"policy\": \"ext\"}, {\"run_ns\": 300000},",
            "  {\"nice\": 5}, {\"cgroup\": \"/c\"}, {\"run_ns\": 300000}, {\"policy\": \"normal\"},",
            "  {\"cgroup\": \"/\"}, {\"run_ns\": 300000}]},",
            " {\"name\": \"plug\", \"loop\": 1, \"phases\": [{\"cpu_offline\": 1}, {\"sleep_ns\": 2000000},",
            "  {\"cpu_online\": 1}, {\"run_ns\": 100000}]},",
            " {\"name\": \"fair\", \"phases\": [{\"run_ns\": 400000}, {\"sleep_ns\": 400000}]}",
            "]}", "");

    /** Partial mode, with the cgroup and hotplug ops, counting them. */
    static final class Partial implements SchedExtOps {
        final AtomicLong moves = new AtomicLong();
        final AtomicLong offline = new AtomicLong();
        final AtomicLong online = new AtomicLong();
        final AtomicLong weights = new AtomicLong();

        @Override
        public String name() {
            return "partial";
        }

        @Override
        public long flags() {
            return SCX_OPS_SWITCH_PARTIAL;
        }

        @Override
        public void cgroupMove(Task p, Cgroup from, Cgroup to) {
            moves.incrementAndGet();
        }

        @Override
        public void setWeight(Task p, int weight) {
            weights.incrementAndGet();
        }

        @Override
        public void cpuOnline(int cpu) {
            online.incrementAndGet();
        }

        @Override
        public void cpuOffline(int cpu) {
            offline.incrementAndGet();
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void extTasksCgroupsAndSyscallPhasesRun() throws Exception {
        Path f = dir.resolve("w.json");
        Files.writeString(f, FILE);
        WorkloadFile w = WorkloadFile.load("file:" + f, f, 2);
        Partial ops = new Partial();
        Map<String, Object> rep;
        try (Machine m = Machine.threaded(2, Kernel.TICK_NS_DEFAULT, Tracer.NONE, CoreProfile.V6_12)) {
            assertEquals(0, m.load(ops));
            m.start();
            w.start(m.kernel(), 2, 1);
            Cgroup ab = m.kernel().cgroups.lookup("/a/b");
            assertNotNull(ab, "the task's cgroup is made at start");
            // the host is shared: run until flip and plug have done their loops (bounded)
            long end = System.nanoTime() + 30_000_000_000L;
            do {
                m.runFor(50_000_000L);
            } while (System.nanoTime() < end && m.kernel().tasks().stream()
                    .anyMatch(t -> t.comm.startsWith("flip-") || t.comm.startsWith("plug-")));
            int ext = 0;
            for (Task t : m.kernel().tasks()) {
                if (t.comm.startsWith("ext-")) {
                    assertEquals(ab.id(), t.cgroupId());
                    ext += t.schedClass() == SchedClass.EXT ? 1 : 0;
                }
                if (t.comm.startsWith("fair-")) {
                    assertEquals(SchedClass.FAIR, t.schedClass(), "partial mode leaves SCHED_NORMAL on fair");
                }
            }
            assertEquals(2, ext, "the SCHED_EXT tasks run in the ext class");
            assertEquals(0, m.ext().exitKind(), m.ext().exitInfo().msg());
            assertNull(m.kernel().bug());
            m.stop();
            rep = w.report();
        }
        long errors = 0;
        long syscalls = 0;
        for (Object o : (List<Object>) rep.get("kinds")) {
            Map<String, Object> k = (Map<String, Object>) o;
            errors += (Long) k.get("syscall_errors");
            syscalls += (Long) k.get("syscalls");
            if (k.get("name").equals("flip")) {
                assertEquals(1L, k.get("exited"), "flip ran its 3 loops");
                assertEquals(15L, k.get("syscalls"), "3 loops x 5 syscalls");
            }
        }
        assertEquals(0, errors);
        assertEquals(17, syscalls);
        assertEquals(6, ops.moves.get(), "3 loops x 2 moves (cgroup_move is called whatever the class)");
        assertEquals(1, ops.offline.get());
        assertEquals(1, ops.online.get());
        assertTrue(ops.weights.get() >= 3, "nice 5 while in ext: set_weight");
    }

    @Test
    void badSyscallPhasesAreNamed() throws Exception {
        String[][] cases = {
            {"{\"tasks\": [{\"name\": \"a\", \"phases\": [{\"policy\": \"cfs\"}, {\"run_ns\": 1}]}]}",
                "tasks[0].phases[0].policy: \"cfs\": unknown"},
            {"{\"tasks\": [{\"name\": \"a\", \"phases\": [{\"cpu_offline\": 9}, {\"run_ns\": 1}]}]}",
                "tasks[0].phases[0].cpu_offline: 9 out of range"},
            {"{\"tasks\": [{\"name\": \"a\", \"cgroup\": \"a//b\", \"phases\": [{\"run_ns\": 1}]}]}",
                "tasks[0].cgroup: \"a//b\": a cgroup path"},
            {"{\"tasks\": [{\"name\": \"a\", \"loop\": 2, \"phases\": [{\"nice\": 1}]}]}",
                "tasks[0].phases: needs a run_ns or sleep_ns phase"},
        };
        for (String[] c : cases) {
            Path f = dir.resolve("bad.json");
            Files.writeString(f, c[0]);
            WorkloadFile.BadWorkloadFile e = assertThrows(WorkloadFile.BadWorkloadFile.class,
                () -> WorkloadFile.load("file:" + f, f, 2));
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
        }
    }
}
