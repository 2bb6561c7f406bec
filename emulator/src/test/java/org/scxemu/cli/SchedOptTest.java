// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.scxemu.harness.TinyJson;
import org.scxemu.kernel.Task;
import org.scxemu.scx.Scx;
import org.scxemu.scx.SchedExtOps;

/** {@code --sched-opt KEY=VALUE}: options reaching a user scheduler's Map constructor. */
class SchedOptTest {
    @TempDir
    Path dir;

    /** A user scheduler configured by its options: the slice, and its name. */
    public static final class WithOpts implements SchedExtOps {
        static volatile Map<String, String> seen;
        private final long sliceNs;
        private final String name;

        public WithOpts(Map<String, String> opts) {
            seen = opts;
            sliceNs = Long.parseLong(opts.getOrDefault("slice_us", "20000")) * 1000L;
            name = opts.getOrDefault("name", "with_opts");
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void enqueue(Task p, long enqFlags) {
            Scx.scx_bpf_dispatch(p, Scx.SCX_DSQ_GLOBAL, sliceNs, enqFlags);
        }
    }

    /** A user scheduler without a Map constructor. */
    public static final class NoOpts implements SchedExtOps {
        @Override
        public String name() {
            return "no_opts";
        }
    }

    @Test
    void optionsReachTheConstructorAndTheJson() throws Exception {
        Path json = dir.resolve("o.json");
        CliRunner.Result r = CliRunner.run("run", "--scheduler", "class:" + WithOpts.class.getName(), "--sched-opt",
                "slice_us=500", "--sched-opt", "name=opt_named", "--cpus", "2", "--duration", "300ms", "--json",
                json.toString());
        assertEquals(0, r.code(), r.describe());
        assertEquals(Map.of("slice_us", "500", "name", "opt_named"), WithOpts.seen);
        Object j = TinyJson.parse(Files.readString(json, StandardCharsets.UTF_8));
        assertEquals("opt_named", TinyJson.at(j, "scheduler_name"));
        assertEquals("500", TinyJson.at(j, "scheduler_options.sched_opts.slice_us"));
        // no options: the Map constructor gets an empty map
        r = CliRunner.run("run", "--scheduler", "class:" + WithOpts.class.getName(), "--cpus", "2", "--duration",
                "200ms");
        assertEquals(0, r.code(), r.describe());
        assertEquals(Map.of(), WithOpts.seen);
    }

    @Test
    void badOptionsAreOneLine() {
        CliRunner.runBadUsage("--sched-opt x=1: only for --scheduler class:NAME", "run", "--scheduler",
                "simple", "--sched-opt", "x=1");
        CliRunner.runBadUsage("--sched-opt =1: must be KEY=VALUE", "run", "--scheduler",
                "class:" + WithOpts.class.getName(), "--sched-opt", "=1");
        CliRunner.runBadUsage("--sched-opt novalue: must be KEY=VALUE", "run", "--scheduler",
                "class:" + WithOpts.class.getName(), "--sched-opt", "novalue");
        CliRunner.Result r = CliRunner.runBadUsage("--scheduler class:", "run", "--scheduler",
                "class:" + NoOpts.class.getName(), "--sched-opt", "a=b");
        assertTrue(r.err().contains("takes no --sched-opt"), r.describe());
    }
}
