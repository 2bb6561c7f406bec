// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.stress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.scxemu.harness.Machine;
import org.scxemu.kernel.Behavior;
import org.scxemu.kernel.CoreProfile;
import org.scxemu.kernel.ExitInfo;
import org.scxemu.kernel.Kernel;
import org.scxemu.kernel.Tracer;
import org.scxemu.scx.SchedExtOps;
import org.scxemu.scx.Scx;

/** The opt-in hotplug chaos injector: CPUs go down and up under a running scheduler. */
class HotplugChaosTest {

    @Test
    void cpusGoDownAndUpAndTheSchedulerSeesEach() throws Exception {
        AtomicLong online = new AtomicLong();
        AtomicLong offline = new AtomicLong();
        try (Machine m = Machine.threaded(4, Kernel.TICK_NS_DEFAULT, Tracer.NONE, CoreProfile.V6_12)) {
            assertEquals(0, m.load(new SchedExtOps() {
                @Override
                public String name() {
                    return "hotplug_ok";
                }

                @Override
                public void cpuOnline(int cpu) {
                    online.incrementAndGet();
                }

                @Override
                public void cpuOffline(int cpu) {
                    offline.incrementAndGet();
                }
            }));
            m.start();
            for (int i = 0; i < 8; i++) {
                m.kernel().fork(new Kernel.TaskSpec().comm("w" + i).cpu(i % 4).behavior(Behavior.cpuBound(200_000L)));
            }
            Chaos c = new Chaos(m.kernel(), ChaosConfig.parse("hotplug=5"), 7, null);
            c.start();
            m.runFor(400_000_000L);
            c.stop();
            assertNull(c.failure());
            assertTrue(c.counts().get("hotplug") > 0, "injected");
            assertEquals(0, m.ext().exitKind(), m.ext().exitInfo().msg());
            for (int cpu = 0; cpu < 4; cpu++) {
                assertTrue(m.kernel().hotplug.isOnline(cpu), "CPU " + cpu + " back online after stop()");
            }
            assertEquals(offline.get(), online.get(), "every CPU taken down came back");
            assertTrue(offline.get() > 0);
            assertNull(m.kernel().bug());
            m.stop();
        }
    }

    @Test
    void aSchedulerWithoutTheHotplugOpsIsToldToRestart() throws Exception {
        try (Machine m = Machine.threaded(2, Kernel.TICK_NS_DEFAULT, Tracer.NONE, CoreProfile.V6_12)) {
            assertEquals(0, m.load(() -> "no_hotplug_ops"));
            m.start();
            Chaos c = new Chaos(m.kernel(), ChaosConfig.parse("hotplug=5"), 7, null);
            c.start();
            long end = System.nanoTime() + 10_000_000_000L;
            while (m.ext().exitKind() == 0 && System.nanoTime() < end) {
                m.runFor(10_000_000L);
            }
            c.stop();
            m.ext().awaitDisabled();
            ExitInfo ei = m.ext().exitInfo();
            assertEquals("UNREG_KERN", ei.kindName());
            assertEquals(Scx.SCX_ECODE_ACT_RESTART | Scx.SCX_ECODE_RSN_HOTPLUG, ei.exitCode());
            m.stop();
        }
    }
}
