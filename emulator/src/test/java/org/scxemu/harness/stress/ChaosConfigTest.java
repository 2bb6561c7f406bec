// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.harness.stress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The {@code --chaos} spec: all, none, NAME[=WEIGHT] lists, and clear errors for bad parts. */
class ChaosConfigTest {

    @Test
    void allIsTheDefault() {
        assertEquals(ChaosConfig.all(), ChaosConfig.parse(null));
        assertEquals(ChaosConfig.all(), ChaosConfig.parse(""));
        assertEquals(ChaosConfig.all(), ChaosConfig.parse("all"));
        for (String n : ChaosConfig.NAMES) {
            // hotplug is opt-in: a scheduler without the hotplug ops is made to exit by it
            assertEquals(!n.equals("hotplug"), ChaosConfig.all().enabled(n), n);
        }
        assertEquals(2, ChaosConfig.all().weight("rt"));
        assertEquals(1, ChaosConfig.all().weight("reload"));
    }

    @Test
    void noneTurnsEverythingOff() {
        ChaosConfig c = ChaosConfig.parse("none");
        assertFalse(c.anyEnabled());
        assertEquals(ChaosConfig.none(), c);
    }

    @Test
    void listSetsOnlyTheNamedInjectors() {
        ChaosConfig c = ChaosConfig.parse("rt=2,dl=1,stop=1,sleep=1,affinity=1,forkexit=1,kick=1,reload=1,delay=1");
        assertEquals(ChaosConfig.all(), c);
        ChaosConfig d = ChaosConfig.parse(" rt=5 , kick ");
        assertEquals(5, d.weight("rt"));
        assertEquals(1, d.weight("kick"));
        assertEquals(0, d.weight("dl"));
        assertEquals(0, d.weight("delay"));
        ChaosConfig e = ChaosConfig.parse("all,reload=0,delay=3");
        assertEquals(0, e.weight("reload"));
        assertEquals(3, e.weight("delay"));
        assertEquals(2, e.weight("rt"));
        assertEquals(ChaosConfig.none(), ChaosConfig.parse("all,none"));
        assertEquals(e, ChaosConfig.parse(e.toString()), "toString() parses back");
        assertEquals(ChaosConfig.none().with("affinity", 4), ChaosConfig.parse("affinity=4"));
    }

    @Test
    void badPartsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ChaosConfig.parse("rt=1,bogus=2"));
        assertTrue(e.getMessage().contains("'bogus=2'"), e.getMessage());
        for (String n : ChaosConfig.NAMES) {
            assertTrue(e.getMessage().contains(n), e.getMessage());
        }
        e = assertThrows(IllegalArgumentException.class, () -> ChaosConfig.parse("rt=x"));
        assertTrue(e.getMessage().contains("'rt=x'") && e.getMessage().contains("0..1000"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ChaosConfig.parse("dl=-1"));
        assertTrue(e.getMessage().contains("'dl=-1'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ChaosConfig.parse("kick=1001"));
        assertTrue(e.getMessage().contains("'kick=1001'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ChaosConfig.parse("rt,,dl"));
        assertTrue(e.getMessage().contains("''"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ChaosConfig.all().weight("nope"));
        assertThrows(IllegalArgumentException.class, () -> ChaosConfig.all().with("rt", -1));
    }
}
