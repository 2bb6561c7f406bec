// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.scxemu.kernel.OpWatch;
import org.scxemu.scx.SchedExtOps;

/**
 * The hostile scheduler ({@code hostile-scheduler/Hostile.java}: misbehaves in the op and the way
 * system properties name), compiled once per test JVM against the emulator's classes only, in a jar
 * outside the emulator's class path, as a user's scheduler is; and a way to run the CLI in a
 * child JVM for what only a process shows (System.exit(), signals, the uncaught handler, OOM).
 */
final class HostileJar {
    static final String CLASS = "class:com.example.Hostile";
    private static Path jar;

    private HostileJar() {
    }

    /** The jar, built on first use. */
    static synchronized Path jar() throws Exception {
        if (jar != null) {
            return jar;
        }
        Path dir = Files.createTempDirectory("scx-hostile");
        Path src = dir.resolve("src/com/example");
        Files.createDirectories(src);
        try (InputStream in = HostileJar.class.getResourceAsStream("/hostile-scheduler/Hostile.java")) {
            assertNotNull(in, "hostile-scheduler/Hostile.java on the test class path");
            Files.write(src.resolve("Hostile.java"), in.readAllBytes());
        }
        Path classes = dir.resolve("classes");
        Files.createDirectories(classes);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "a JDK, not a JRE");
        String emulator = emulatorClasses();
        ByteArrayOutputStream diag = new ByteArrayOutputStream();
        int rc = javac.run(null, diag, diag, "-classpath", emulator, "-d", classes.toString(), "--release", "17",
                src.resolve("Hostile.java").toString());
        assertEquals(0, rc, "javac: " + diag.toString(StandardCharsets.UTF_8));
        Path j = dir.resolve("hostile.jar");
        try (OutputStream os = Files.newOutputStream(j); JarOutputStream jos = new JarOutputStream(os);
                Stream<Path> s = Files.walk(classes)) {
            for (Path p : (Iterable<Path>) s.filter(Files::isRegularFile)::iterator) {
                jos.putNextEntry(new JarEntry(classes.relativize(p).toString().replace('\\', '/')));
                jos.write(Files.readAllBytes(p));
                jos.closeEntry();
            }
        }
        jar = j;
        return j;
    }

    static String emulatorClasses() throws Exception {
        return Path.of(SchedExtOps.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    /** Sets the misbehaviour for the next in-process run (the scheduler reads it when built). */
    static void misbehave(String op, String act) {
        System.setProperty("hostile.op", op);
        System.setProperty("hostile.act", act);
        System.clearProperty("hostile.release");
    }

    /**
     * Lets a looping op go (it polls hostile.release) and waits until its wedged run has unloaded
     * the scheduler, so the next run can load one.
     */
    static void release() throws InterruptedException {
        System.setProperty("hostile.release", "1");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (OpWatch.schedulerLoaded() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        System.clearProperty("hostile.op");
        System.clearProperty("hostile.act");
    }

    /** A child JVM's result: exit status, stdout, stderr, wall time. */
    record Proc(int code, String out, String err, long ms) {
        String describe() {
            return "exit " + code + " after " + ms + " ms\n--- stdout:\n" + out + "\n--- stderr:\n" + err;
        }
    }

    /**
     * Runs {@code org.scxemu.cli.Main args} in a child JVM with {@code jvmArgs} (system properties),
     * killing it after {@code timeoutS}; {@code whenStarted}, if not null, is run once the child has
     * printed its first line (the run's header) and gets the process.
     */
    static Proc runMain(List<String> jvmArgs, long timeoutS, java.util.function.Consumer<Process> whenStarted,
            String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--add-opens");
        cmd.add("java.base/jdk.internal.misc=ALL-UNNAMED");
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("org.scxemu.cli.Main");
        cmd.addAll(List.of(args));
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread eo = pump(p.getErrorStream(), err, null, null);
        Thread oo = pump(p.getInputStream(), out, whenStarted, p);
        boolean done = p.waitFor(timeoutS, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly().waitFor();
        }
        oo.join(5000);
        eo.join(5000);
        long ms = (System.nanoTime() - t0) / 1_000_000L;
        return new Proc(done ? p.exitValue() : -1, out.toString(StandardCharsets.UTF_8),
                err.toString(StandardCharsets.UTF_8), ms);
    }

    private static Thread pump(InputStream in, ByteArrayOutputStream to, java.util.function.Consumer<Process> first,
            Process p) {
        Thread t = new Thread(() -> {
            boolean told = false;
            byte[] buf = new byte[8192];
            try {
                for (int n; (n = in.read(buf)) > 0;) {
                    synchronized (to) {
                        to.write(buf, 0, n);
                    }
                    if (!told && first != null && to.toString(StandardCharsets.UTF_8).contains("\n")) {
                        told = true;
                        first.accept(p);
                    }
                }
            } catch (IOException e) {
                // the child is gone
            }
        });
        t.setDaemon(true);
        t.start();
        return t;
    }
}
