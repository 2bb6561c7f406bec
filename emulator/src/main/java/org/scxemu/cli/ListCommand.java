// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.scxemu.harness.KernelProfile;
import org.scxemu.harness.workload.Workload;
import org.scxemu.harness.workload.WorkloadFile;
import org.scxemu.harness.workload.Workloads;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code scx-emu list}: one line per scheduler, workload and kernel profile, as
 * {@code <kind> <name> <description>}, so that scripts can {@code grep} and {@code awk} it.
 */
@Command(name = "list", mixinStandardHelpOptions = true,
        description = "List the schedulers, workloads and kernel profiles, one per line.")
final class ListCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        for (Schedulers.Entry e : Schedulers.ALL) {
            out.printf("scheduler  %-12s %s%n", e.name(), e.description());
        }
        for (String name : Workloads.names()) {
            Workload w = Workloads.create(name);
            out.printf("workload   %-12s %s%n", name, w.description());
        }
        out.printf("workload   %-12s %s%n", WorkloadFile.PREFIX + "PATH", "your own, from a JSON file (rt-app-like):"
                + " tasks with name, count, policy, nice, cpus, run_ns/sleep_ns phases, loop (see docs/workloads.md)");
        for (KernelProfile p : KernelProfile.values()) {
            out.printf("kernel     %-12s %s%n", p.id, p.description);
        }
        out.flush();
        return Main.EXIT_OK;
    }
}
