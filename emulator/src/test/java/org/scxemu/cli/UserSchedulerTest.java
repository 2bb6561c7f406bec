// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.scxemu.harness.TinyJson;
import org.scxemu.scx.SchedExtOps;

/**
 * {@code --scheduler class:NAME --classpath JAR}: a scheduler compiled at test time from source
 * (the README's example, {@code user-scheduler/MySched.java}) against the emulator's classes, put
 * in a jar outside the emulator's class path and run through the CLI; and every way loading one
 * can fail, each one line and exit 2.
 */
class UserSchedulerTest {
    @TempDir
    static Path dir;
    static Path jar;

    private static final String NOT_OPS = "package com.example;\npublic class NotOps {\n}\n";
    private static final String NO_CTOR = "package com.example;\n"
            + "public class NoCtor implements org.scxemu.scx.SchedExtOps {\n"
            + "    public NoCtor(int x) {\n    }\n"
            + "    public String name() {\n        return \"no_ctor\";\n    }\n}\n";
    private static final String THROWS = "package com.example;\n"
            + "public class Throws implements org.scxemu.scx.SchedExtOps {\n"
            + "    public Throws() {\n        throw new IllegalStateException(\"boom\");\n    }\n"
            + "    public String name() {\n        return \"throws\";\n    }\n}\n";
    private static final String ABSTRACT = "package com.example;\n"
            + "public abstract class Abstract implements org.scxemu.scx.SchedExtOps {\n}\n";

    static String exampleSource() throws IOException {
        try (InputStream in = UserSchedulerTest.class.getResourceAsStream("/user-scheduler/MySched.java")) {
            assertNotNull(in, "user-scheduler/MySched.java on the test class path");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @BeforeAll
    static void compileAndJar() throws Exception {
        Path src = dir.resolve("src/com/example");
        Files.createDirectories(src);
        Files.writeString(src.resolve("MySched.java"), exampleSource());
        Files.writeString(src.resolve("NotOps.java"), NOT_OPS);
        Files.writeString(src.resolve("NoCtor.java"), NO_CTOR);
        Files.writeString(src.resolve("Throws.java"), THROWS);
        Files.writeString(src.resolve("Abstract.java"), ABSTRACT);
        Path classes = dir.resolve("classes");
        Files.createDirectories(classes);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "a JDK, not a JRE");
        // compile against the emulator's classes only, as a user does against the emulator's jar
        String emulator = Path.of(SchedExtOps.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .toString();
        List<String> args = new ArrayList<>(List.of("-classpath", emulator, "-d", classes.toString(),
                "--release", "17"));
        try (Stream<Path> s = Files.list(src)) {
            s.forEach(p -> args.add(p.toString()));
        }
        ByteArrayOutputStream diag = new ByteArrayOutputStream();
        int rc = javac.run(null, diag, diag, args.toArray(new String[0]));
        assertEquals(0, rc, "javac: " + diag.toString(StandardCharsets.UTF_8));
        jar = dir.resolve("my.jar");
        try (OutputStream os = Files.newOutputStream(jar); JarOutputStream jos = new JarOutputStream(os);
                Stream<Path> s = Files.walk(classes)) {
            for (Path p : (Iterable<Path>) s.filter(Files::isRegularFile)::iterator) {
                jos.putNextEntry(new JarEntry(classes.relativize(p).toString().replace('\\', '/')));
                jos.write(Files.readAllBytes(p));
                jos.closeEntry();
            }
        }
        assertFalse(canLoadFromTestClassPath("com.example.MySched"), "the scheduler is outside the emulator");
    }

    private static boolean canLoadFromTestClassPath(String name) {
        try {
            Class.forName(name, false, UserSchedulerTest.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    @Test
    void userSchedulerFromAJarRunsThroughTheCli() throws IOException {
        Path json = dir.resolve("user.json");
        CliRunner.Result r = CliRunner.run("run", "--scheduler", "class:com.example.MySched", "--classpath",
                jar.toString(), "--cpus", "2", "--workload", "sleep-wake", "--duration", "1500ms", "--json",
                json.toString());
        assertEquals(0, r.code(), r.describe());
        assertEquals("", r.err(), r.describe());
        assertTrue(r.out().contains("my_fifo: enq="), "its stats line: " + r.describe());
        Object j = TinyJson.parse(Files.readString(json, StandardCharsets.UTF_8));
        assertEquals("class:com.example.MySched", TinyJson.at(j, "scheduler"));
        assertEquals("my_fifo", TinyJson.at(j, "scheduler_name"));
        assertEquals("com.example.MySched", TinyJson.at(j, "scheduler_options.class"));
        assertEquals("UNREG", TinyJson.at(j, "exit.kind"));
        long enq = TinyJson.num(j, "ops_calls.enqueue");
        assertTrue(enq > 0, "its enqueue was called");
        assertTrue(TinyJson.num(j, "ops_calls.dispatch") > 0, "its dispatch was called");
        assertTrue(TinyJson.num(j, "ops_calls.init") == 1, "its init was called once");
        assertEquals(0L, TinyJson.num(j, "ops_calls.select_cpu"), "absent op: never called");
        assertTrue(TinyJson.num(j, "kfunc_calls.consume") > 0);
        assertEquals(enq, TinyJson.num(j, "scheduler_stats.nr_enqueued"), "its own counter matches the core's");
        assertTrue(TinyJson.num(j, "scheduler_stats.nr_consumed") > 0);
    }

    /** The README shows the same example the test compiles, so what a user copies is what is tested. */
    @Test
    void readmeShowsTheTestedExample() throws IOException {
        Path readme = Path.of("..", "README.md");
        if (Files.exists(readme)) {
            String text = Files.readString(readme, StandardCharsets.UTF_8);
            assertTrue(text.contains(exampleSource()), "README.md contains user-scheduler/MySched.java verbatim");
        }
    }

    static Stream<Arguments> badUserSchedulers() {
        String j = dir.resolve("my.jar").toString();
        return Stream.of(
                Arguments.of("missing jar", new String[] {"--scheduler", "class:com.example.MySched", "--classpath",
                    dir.resolve("nope.jar").toString()}, "nope.jar: no such file or directory"),
                Arguments.of("class not found",
                        new String[] {"--scheduler", "class:com.example.Nope", "--classpath", j},
                        "class com.example.Nope not found in --classpath"),
                Arguments.of("class not found without classpath",
                        new String[] {"--scheduler", "class:com.example.Nope"},
                        "not found on the emulator's class path"),
                Arguments.of("no class name", new String[] {"--scheduler", "class:", "--classpath", j},
                        "no class name"),
                Arguments.of("not a SchedExtOps", new String[] {"--scheduler", "class:com.example.NotOps",
                    "--classpath", j}, "does not implement org.scxemu.scx.SchedExtOps"),
                Arguments.of("no no-arg constructor", new String[] {"--scheduler", "class:com.example.NoCtor",
                    "--classpath", j}, "has no public no-argument constructor"),
                Arguments.of("constructor throws", new String[] {"--scheduler", "class:com.example.Throws",
                    "--classpath", j}, "threw java.lang.IllegalStateException: boom"),
                Arguments.of("abstract", new String[] {"--scheduler", "class:com.example.Abstract", "--classpath", j},
                        "is abstract"),
                Arguments.of("classpath without class:", new String[] {"--scheduler", "simple", "--classpath", j},
                        "only for --scheduler class:NAME"),
                Arguments.of("scheduler option on a user scheduler", new String[] {"--scheduler",
                    "class:com.example.MySched", "--classpath", j, "--slice-us", "100"},
                        "--slice-us: a user scheduler"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badUserSchedulers")
    void unloadableSchedulerIsOneLineAndExitTwo(String what, String[] args, String expected) throws IOException {
        Path json = dir.resolve("bad.json");
        String[] full = Stream.concat(Stream.of("run"), Stream.concat(Stream.of(args),
                Stream.of("--json", json.toString(), "--duration", "1s"))).toArray(String[]::new);
        CliRunner.Result r = CliRunner.run(full);
        assertEquals(Main.EXIT_USAGE, r.code(), r.describe());
        assertEquals(1, r.errLines().size(), "exactly one line: " + r.describe());
        assertTrue(r.err().startsWith("scx-emu: "), r.describe());
        assertTrue(r.err().contains(expected), "expected '" + expected + "' in: " + r.describe());
        assertEquals("", r.out(), r.describe());
        assertFalse(Files.exists(json), "nothing written");
    }
}
