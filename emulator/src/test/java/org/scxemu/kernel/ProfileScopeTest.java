// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.scxemu.kernel.ScxConsts.*;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.scxemu.scx.SchedExtOps;

/** Later kernels' features a profile does not model are refused at load, named, never run as 6.12. */
class ProfileScopeTest {

    private static SchedExtOps withFlags(long f) {
        return new SchedExtOps() {
            @Override
            public String name() {
                return "later_flags";
            }

            @Override
            public long flags() {
                return f;
            }
        };
    }

    @ParameterizedTest
    @EnumSource(CoreProfile.class)
    void laterOpsFlagIsRefusedPerProfile(CoreProfile profile) {
        try (Stepped s = new Stepped(1, profile)) {
            int ret = s.load(withFlags(1L << 5));
            if (profile == CoreProfile.V6_16 || profile == CoreProfile.V6_19) {
                assertEquals(-EOPNOTSUPP, ret);
                String name = profile == CoreProfile.V6_16 ? "6.16" : "6.19";
                assertTrue(s.ext.dmesg().stream().anyMatch(l -> l.startsWith(
                        "scx-emu: SCX_OPS_ALLOW_QUEUED_WAKEUP is not modelled under --kernel " + name)),
                        s.ext.dmesg().toString());
            } else {
                assertEquals(-EINVAL, ret, "not a flag of this kernel");
            }
            assertEquals(Ext.SCX_OPS_DISABLED, s.ext.enableState());
            assertEquals(0, s.load(withFlags(0)), "a scheduler without it loads");
        }
    }
}
