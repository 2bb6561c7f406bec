// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.kernel;

import static org.scxemu.kernel.ScxConsts.*;

/**
 * What a kernel profile does not model, refused at load with a line naming the feature and the
 * profile rather than run on the 6.12 core under a later kernel's name.
 *
 * <p>6.16 and 6.19 run 6.12's core flow with only their listed protocol changes (see
 * {@link CoreProfile}). Their kernels accept ops flags that 6.12 did not have; a scheduler asking
 * for one of them would get 6.12 behaviour here, so the load is refused with -EOPNOTSUPP. Under
 * v7 and 6.12 those bits are simply invalid flags (-EINVAL, bpf_scx_init_member()).
 */
final class ProfileScope {
    /** [later] enum scx_ops_flags bits of the 6.14–6.16 kernels, with their names. */
    private static final long[] LATER_FLAGS = {1L << 4, 1L << 5, 1L << 6, 1L << 7};
    private static final String[] LATER_FLAG_NAMES = {
        "SCX_OPS_ENQ_MIGRATION_DISABLED", "SCX_OPS_ALLOW_QUEUED_WAKEUP", "SCX_OPS_BUILTIN_IDLE_PER_NODE",
        "SCX_OPS_ALWAYS_ENQ_IMMED",
    };

    private ProfileScope() {
    }

    /** The name --kernel takes for a profile. */
    static String kernelName(CoreProfile profile) {
        switch (profile) {
            case V6_12:
                return "6.12";
            case V6_16:
                return "6.16";
            case V6_19:
                return "6.19";
            default:
                return "v7";
        }
    }

    /**
     * 0, or -EOPNOTSUPP after logging which requested feature {@code profile} does not model.
     * Called by scx_ops_enable() before it checks the flags against SCX_OPS_ALL_FLAGS.
     */
    static int refuseUnmodelled(Ext ext, CoreProfile profile, long flags) {
        if (profile != CoreProfile.V6_16 && profile != CoreProfile.V6_19) {
            return 0;
        }
        for (int i = 0; i < LATER_FLAGS.length; i++) {
            if ((flags & LATER_FLAGS[i]) != 0) {
                ext.klog("scx-emu: " + LATER_FLAG_NAMES[i] + " is not modelled under --kernel " + kernelName(profile)
                        + " (its core is 6.12's plus the " + kernelName(profile) + " changes scx-emu list names)");
                return -EOPNOTSUPP;
            }
        }
        return 0;
    }
}
