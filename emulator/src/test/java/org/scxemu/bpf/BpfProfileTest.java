// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.bpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.bpf.BpfFixtures.MS;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.scxemu.harness.Machine;
import org.scxemu.kernel.ScxOp;
import org.scxemu.scx.SchedExtOps;

/**
 * Kfunc availability follows --kernel: an object written with the 6.13 names is refused, naming
 * the kfunc, by the profiles that predate them (v7, 6.12) and runs under a later one.
 */
class BpfProfileTest {
    @Test
    void the613NamesNeedALaterKernel() throws Exception {
        for (String profile : List.of("v7", "6.12")) {
            BpfScheduler.Options o = BpfScheduler.cliOptions(List.of(), profile, 2, 1);
            BpfLoadException e = assertThrows(BpfLoadException.class,
                    () -> BpfScheduler.load(BpfFixtures.obj("insert613"), o));
            assertTrue(e.getMessage().endsWith("program ins_enqueue calls kfunc scx_bpf_dsq_insert, which the chosen"
                    + " kernel profile lacks"), profile + ": " + e.getMessage());
        }
        SchedExtOps s = BpfScheduler.load(BpfFixtures.obj("insert613"), BpfScheduler.cliOptions(List.of(), "6.16", 2,
                1));
        try (Machine m = Machine.threaded(2)) {
            assertEquals(0, m.load(s));
            m.start();
            BpfFixtures.runAndAssertProgress(m, BpfFixtures.mixed(m, 3, 3), 200 * MS);
            m.stop();
            m.unload();
            assertEquals(m.kernel().opCalls()[ScxOp.ENQUEUE.ordinal()], BpfScheduler.global(s, "nr_inserted"));
        }
    }
}
