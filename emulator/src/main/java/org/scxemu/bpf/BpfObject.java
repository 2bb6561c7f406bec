// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.bpf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A loaded BPF object: what libbpf's {@code bpf_object__open()} + {@code load()} produce for a
 * sched_ext scheduler. Reads the ELF and BTF, creates the maps and global sections, links every
 * executable section into one instruction image, applies the relocations (maps, globals,
 * bpf-to-bpf calls, callbacks, kfunc externs, weak {@code bpf_ksym_exists()} externs) and the CO-RE
 * relocations against {@link KernelTypes}, and finds the {@code sched_ext_ops} table. After
 * construction the image is immutable and shared by every CPU thread; maps and globals are the
 * shared memory described in {@link Memory}.
 */
final class BpfObject {
    /** Helpers the engine implements, by id. */
    static final Set<Integer> HELPERS = Set.of(1, 2, 3, 5, 6, 7, 8, 87, 88, 89, 93, 94, 113, 115, 156, 157, 169,
            170, 171, 172, 181, 182, 195);

    static final int CALL_HELPER = 0;
    static final int CALL_LOCAL = 1;
    static final int CALL_KFUNC = 2;
    static final int CALL_MISSING_WEAK = 3;

    /** A global variable: its section region, offset and size. */
    record Global(String name, Memory.Bytes region, int off, int size, String section) {
    }

    /** A program (a function symbol) in the image. */
    record Prog(String name, String section, int start, int end) {
    }

    /** The sched_ext_ops table. */
    static final class OpsTable {
        String varName;
        String name = "";
        long flags;
        int timeoutMs;
        int dispatchMaxBatch;
        int exitDumpLen;
        /** Op (kernel member name) to the program's entry instruction. */
        final Map<String, Integer> ops = new LinkedHashMap<>();
    }

    final String path;
    final String fileName;
    final Memory mem = new Memory();
    final Btf btf;
    final int nrCpus;
    final Set<String> profileLacks;
    // the image: one entry per 8-byte instruction slot
    int[] code;
    int[] dst;
    int[] src;
    int[] off;
    int[] imm;
    /** The 64-bit constant of an LD_IMM64 at its first slot (after relocation). */
    long[] imm64;
    /** Per call instruction: CALL_* and, for kfuncs, the Kfunc ordinal; for local calls the target. */
    int[] callKind;
    int[] callArg;
    String[] lineOf;
    final List<Prog> progs = new ArrayList<>();
    final Map<String, BpfMap> maps = new LinkedHashMap<>();
    final Map<String, Global> globals = new LinkedHashMap<>();
    final Map<Integer, Memory.Bytes> sections = new HashMap<>();
    final List<String> missingWeak = new ArrayList<>();
    final OpsTable opsTable = new OpsTable();

    /**
     * @param profileLacks kfunc names the chosen kernel profile does not have (refused if called
     *                     without a weak declaration)
     * @param sets         {@code --bpf-set NAME=VALUE}: globals set before load, as a skeleton does
     */
    BpfObject(Path file, int nrCpus, Set<String> profileLacks, Map<String, String> sets) throws BpfLoadException {
        this.path = file.toString();
        this.fileName = file.getFileName() == null ? path : file.getFileName().toString();
        this.nrCpus = nrCpus;
        this.profileLacks = profileLacks;
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new BpfLoadException(path + ": no such file");
        } catch (IOException e) {
            throw new BpfLoadException(path + ": cannot read: " + e.getMessage());
        }
        ElfFile elf = new ElfFile(bytes, path);
        ElfFile.Section btfSec = elf.section(".BTF");
        if (btfSec == null) {
            throw elf.fail("no .BTF section (compile with -g)");
        }
        ElfFile.Section extSec = elf.section(".BTF.ext");
        btf = new Btf(elf.data(btfSec), extSec == null ? null : elf.data(extSec), path);
        makeGlobals(elf);
        applySets(sets);
        makeMaps(elf);
        buildImage(elf);
        relocate(elf);
        applyCore(elf);
        findOps(elf);
    }

    private static boolean isDataSection(String n) {
        return n.equals(".bss") || n.equals(".data") || n.equals(".rodata") || n.startsWith(".data.")
                || n.startsWith(".rodata.") || n.startsWith(".bss.");
    }

    private void makeGlobals(ElfFile elf) {
        for (ElfFile.Section s : elf.sections) {
            if (!isDataSection(s.name())) {
                continue;
            }
            boolean ro = s.name().startsWith(".rodata");
            Memory.Bytes r = new Memory.Bytes(s.name(), elf.data(s), 0, s.size(), ro, true);
            mem.register(r);
            sections.put(s.index(), r);
        }
        for (ElfFile.Symbol sym : elf.symbols) {
            Memory.Bytes r = sections.get(sym.shndx());
            if (r != null && sym.type() == ElfFile.STT_OBJECT && !sym.name().isEmpty()) {
                Memory.Bytes grown = resizable(elf, sym, r);
                if (grown != null) {
                    sections.put(sym.shndx(), grown);
                    r = grown;
                }
                globals.put(sym.name(), new Global(sym.name(), r, (int) sym.value(), r == grown ? r.len
                        : (int) sym.size(), r.name));
            }
        }
        // what a skeleton's loader sets before load: the CPU count and the dump buffer's length
        Global nr = globals.get("nr_cpu_ids");
        if (nr != null && nr.section().startsWith(".rodata") && nr.size() == 4) {
            mem.storeBytes(nr.region(), nr.off(), 4, nrCpus);
        }
        for (Global g : List.copyOf(globals.values())) {
            Global len = globals.get(g.name() + "_len");
            if (g.name().endsWith("_dump") && g.section().startsWith(".data.") && len != null && len.size() == 4) {
                mem.storeBytes(len.region(), len.off(), 4, g.size());
            }
        }
    }

    /** UEI_DUMP_DFL_LEN: the dump buffer's size when ops.exit_dump_len is 0. */
    static final int UEI_DUMP_DFL_LEN = 32768;

    /**
     * A {@code RESIZABLE_ARRAY()}: a one-element array alone in its own {@code .data.NAME} or
     * {@code .bss.NAME} section, which the C loader grows before load: to the dump length for
     * {@code *_dump}, to the number of CPUs otherwise. Returns the grown region, or null.
     */
    private Memory.Bytes resizable(ElfFile elf, ElfFile.Symbol sym, Memory.Bytes r) {
        String sec = r.name;
        if (!(sec.equals(".data." + sym.name()) || sec.equals(".bss." + sym.name())) || sym.value() != 0
                || sym.size() != r.len || r.len == 0) {
            return null;
        }
        Btf.Type var = btf.byName(sym.name(), Btf.KIND_VAR);
        Btf.Type t = var == null ? null : btf.resolve(var.sizeOrType);
        if (t == null || t.kind != Btf.KIND_ARRAY || t.arrayNelems != 1) {
            return null;
        }
        int n = sym.name().endsWith("_dump") ? UEI_DUMP_DFL_LEN / r.len : nrCpus;
        byte[] d = new byte[r.len * n];
        Memory.Bytes grown = new Memory.Bytes(sec, d, 0, d.length, false, true);
        mem.register(grown);
        return grown;
    }

    private void applySets(Map<String, String> sets) throws BpfLoadException {
        for (Map.Entry<String, String> e : sets.entrySet()) {
            Global g = globals.get(e.getKey());
            if (g == null) {
                throw new BpfLoadException("--bpf-set " + e.getKey() + ": " + fileName + " has no global variable "
                        + e.getKey());
            }
            long v;
            String s = e.getValue();
            try {
                if (s.equalsIgnoreCase("true")) {
                    v = 1;
                } else if (s.equalsIgnoreCase("false")) {
                    v = 0;
                } else if (s.startsWith("0x") || s.startsWith("0X")) {
                    v = Long.parseUnsignedLong(s.substring(2), 16);
                } else if (s.startsWith("-")) {
                    v = Long.parseLong(s);
                } else {
                    v = Long.parseUnsignedLong(s);
                }
            } catch (NumberFormatException ex) {
                throw new BpfLoadException("--bpf-set " + e.getKey() + "=" + s + ": not a number");
            }
            if (g.size() != 1 && g.size() != 2 && g.size() != 4 && g.size() != 8) {
                throw new BpfLoadException("--bpf-set " + e.getKey() + ": a " + g.size()
                        + "-byte variable is not a number");
            }
            mem.storeBytes(g.region(), g.off(), g.size(), v);
        }
    }

    private void makeMaps(ElfFile elf) throws BpfLoadException {
        ElfFile.Section ms = elf.section(".maps");
        if (ms == null) {
            return;
        }
        Map<Long, BpfMap> byOffset = new HashMap<>();
        for (ElfFile.Symbol sym : elf.symbols) {
            if (sym.shndx() != ms.index() || sym.name().isEmpty() || sym.type() == ElfFile.STT_SECTION) {
                continue;
            }
            Btf.Type var = btf.byName(sym.name(), Btf.KIND_VAR);
            Btf.Type def = var == null ? null : btf.resolve(var.sizeOrType);
            if (def == null || !def.isComposite()) {
                throw elf.fail("map " + sym.name() + " has no BTF definition");
            }
            long type = -1;
            long maxEntries = 0;
            long flags = 0;
            long keySize = -1;
            long valueSize = -1;
            for (Btf.Member m : def.members) {
                switch (m.name()) {
                    case "type":
                        type = btf.ptrArrayLen(m.type());
                        break;
                    case "max_entries":
                        maxEntries = btf.ptrArrayLen(m.type());
                        break;
                    case "map_flags":
                        flags = btf.ptrArrayLen(m.type());
                        break;
                    case "key_size":
                        keySize = btf.ptrArrayLen(m.type());
                        break;
                    case "value_size":
                        valueSize = btf.ptrArrayLen(m.type());
                        break;
                    case "key":
                        keySize = btf.sizeOf(btf.resolve(m.type()).sizeOrType);
                        break;
                    case "value":
                        valueSize = btf.sizeOf(btf.resolve(m.type()).sizeOrType);
                        break;
                    case "values":
                        valueSize = 8;
                        break;
                    default:
                        break;
                }
            }
            String n = sym.name();
            BpfMap map;
            switch ((int) type) {
                case BpfMap.ARRAY:
                case BpfMap.ARRAY_OF_MAPS:
                    if (type == BpfMap.ARRAY_OF_MAPS) {
                        valueSize = 8;
                        keySize = keySize < 0 ? 4 : keySize;
                    }
                    checkDef(elf, n, keySize, valueSize, maxEntries, true);
                    map = new BpfMap.ArrayMap(mem, n, (int) type, (int) keySize, (int) valueSize, (int) maxEntries,
                            flags, null);
                    break;
                case BpfMap.PERCPU_ARRAY:
                    checkDef(elf, n, keySize, valueSize, maxEntries, true);
                    map = new BpfMap.PerCpuArrayMap(mem, n, (int) keySize, (int) valueSize, (int) maxEntries, flags,
                            nrCpus);
                    break;
                case BpfMap.HASH:
                case BpfMap.HASH_OF_MAPS:
                    if (type == BpfMap.HASH_OF_MAPS) {
                        valueSize = 8;
                    }
                    checkDef(elf, n, keySize, valueSize, maxEntries, true);
                    map = new BpfMap.HashMap(mem, n, (int) type, (int) keySize, (int) valueSize, (int) maxEntries,
                            flags);
                    break;
                case BpfMap.QUEUE:
                case BpfMap.STACK:
                    checkDef(elf, n, 0, valueSize, maxEntries, false);
                    map = new BpfMap.QueueMap(mem, n, (int) type, (int) valueSize, (int) maxEntries, flags);
                    break;
                case BpfMap.TASK_STORAGE:
                    if (valueSize <= 0) {
                        throw elf.fail("map " + n + ": no value type");
                    }
                    map = new BpfMap.TaskStorageMap(mem, n, 4, (int) valueSize, flags);
                    break;
                default:
                    throw elf.fail("map " + n + ": map type " + (type < 0 ? "missing" : BpfMap.typeName((int) type))
                            + " is not supported");
            }
            Memory.Obj self = new Memory.Obj("map " + n, map, 0);
            mem.register(self);
            map.selfPtr = Memory.ptr(self, 0);
            maps.put(n, map);
            byOffset.put(sym.value(), map);
        }
        // map-in-map initial values: .rel.maps points a 'values' slot at an inner map
        for (ElfFile.Reloc r : elf.relocsOf(ms)) {
            BpfMap outer = null;
            long base = -1;
            for (Map.Entry<Long, BpfMap> e : byOffset.entrySet()) {
                if (e.getKey() <= r.offset() && e.getKey() > base) {
                    base = e.getKey();
                    outer = e.getValue();
                }
            }
            BpfMap inner = byOffset.get(r.sym().value());
            if (outer == null || inner == null || !(outer instanceof BpfMap.ArrayMap)) {
                throw elf.fail("unsupported relocation in .maps at offset " + r.offset());
            }
            Btf.Type def = btf.resolve(btf.byName(outer.name, Btf.KIND_VAR).sizeOrType);
            long valuesOff = -1;
            for (Btf.Member m : def.members) {
                if (m.name().equals("values")) {
                    valuesOff = m.bitOffset() / 8;
                }
            }
            int slot = (int) ((r.offset() - base - valuesOff) / 8);
            BpfMap.ArrayMap am = (BpfMap.ArrayMap) outer;
            if (valuesOff < 0 || slot < 0 || slot >= am.maxEntries) {
                throw elf.fail("map " + outer.name + ": initial value slot out of range");
            }
            mem.storeBytes(am.values[slot], 0, 8, inner.selfPtr);
        }
    }

    private static void checkDef(ElfFile elf, String n, long keySize, long valueSize, long maxEntries, boolean key)
            throws BpfLoadException {
        if (key && keySize <= 0 || valueSize <= 0 || maxEntries <= 0) {
            throw elf.fail("map " + n + ": key_size, value_size and max_entries must be positive (max_entries "
                    + maxEntries + "; a loader that resizes maps is not emulated)");
        }
    }

    private final Map<Integer, Integer> secBase = new HashMap<>();

    private void buildImage(ElfFile elf) throws BpfLoadException {
        int total = 0;
        List<ElfFile.Section> exec = new ArrayList<>();
        for (ElfFile.Section s : elf.sections) {
            if (s.executable() && s.size() > 0) {
                if (s.size() % 8 != 0) {
                    throw elf.fail("section " + s.name() + " is not a whole number of instructions");
                }
                exec.add(s);
                secBase.put(s.index(), total);
                total += s.size() / 8;
            }
        }
        allocImage(total);
        for (ElfFile.Section s : exec) {
            if (!decode(elf.bytes, s.offset(), s.size() / 8, secBase.get(s.index()))) {
                throw elf.fail("truncated LD_IMM64 in " + s.name());
            }
        }
        for (ElfFile.Symbol sym : elf.symbols) {
            Integer base = secBase.get(sym.shndx());
            if (base != null && sym.type() == ElfFile.STT_FUNC) {
                int start = base + (int) (sym.value() / 8);
                progs.add(new Prog(sym.name(), elf.sections.get(sym.shndx()).name(), start,
                        start + (int) (sym.size() / 8)));
            }
        }
        for (Btf.LineInfo li : btf.lineInfos) {
            ElfFile.Section s = elf.section(li.sec());
            Integer base = s == null ? null : secBase.get(s.index());
            if (base != null && li.insnOff() / 8 < s.size() / 8) {
                String text = li.line().strip();
                String file = li.file().startsWith("./") ? li.file().substring(2) : li.file();
                lineOf[base + li.insnOff() / 8] = file + ":" + li.lineNo() + (text.isEmpty() ? "" : ": " + text);
            }
        }
        // carry line info forward so every instruction has the line of the statement it belongs to
        for (ElfFile.Section s : exec) {
            int base = secBase.get(s.index());
            String cur = null;
            for (int i = 0; i < s.size() / 8; i++) {
                if (lineOf[base + i] != null) {
                    cur = lineOf[base + i];
                } else {
                    lineOf[base + i] = cur;
                }
            }
        }
    }

    private void allocImage(int total) {
        code = new int[total];
        dst = new int[total];
        src = new int[total];
        off = new int[total];
        imm = new int[total];
        imm64 = new long[total];
        callKind = new int[total];
        callArg = new int[total];
        lineOf = new String[total];
    }

    /** Decodes {@code n} instructions at {@code bytes[p0..]} into slots {@code base..}; false if truncated. */
    private boolean decode(byte[] bytes, int p0, int n, int base) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            int p = p0 + i * 8;
            int k = base + i;
            code[k] = bytes[p] & 0xff;
            dst[k] = bytes[p + 1] & 0xf;
            src[k] = (bytes[p + 1] >> 4) & 0xf;
            off[k] = b.getShort(p + 2);
            imm[k] = b.getInt(p + 4);
        }
        for (int i = 0; i < n; i++) {
            int k = base + i;
            if (code[k] == 0x18) {
                if (i + 1 >= n) {
                    return false;
                }
                imm64[k] = (imm[k] & 0xffffffffL) | ((long) imm[k + 1] << 32);
                i++;
            } else if (code[k] == 0x85) {
                callKind[k] = src[k] == 1 ? CALL_LOCAL : CALL_HELPER;
                callArg[k] = src[k] == 1 ? k + imm[k] + 1 : imm[k];
            }
        }
        return true;
    }

    /** A bare image of raw instructions, one program "prog" (the instruction-level tests). */
    BpfObject(long[] insns) {
        path = "insns";
        fileName = "insns";
        nrCpus = 1;
        profileLacks = Set.of();
        btf = null;
        allocImage(insns.length);
        ByteBuffer b = ByteBuffer.allocate(insns.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long x : insns) {
            b.putLong(x);
        }
        decode(b.array(), 0, insns.length, 0);
        progs.add(new Prog("prog", "insns", 0, insns.length));
    }

    private void relocate(ElfFile elf) throws BpfLoadException {
        ElfFile.Section maps = elf.section(".maps");
        for (Map.Entry<Integer, Integer> e : secBase.entrySet()) {
            ElfFile.Section s = elf.sections.get(e.getKey());
            int base = e.getValue();
            for (ElfFile.Reloc r : elf.relocsOf(s)) {
                int k = base + (int) (r.offset() / 8);
                if (r.offset() % 8 != 0 || k >= code.length) {
                    throw elf.fail("relocation at offset " + r.offset() + " of " + s.name() + " is not on an"
                            + " instruction");
                }
                ElfFile.Symbol sym = r.sym();
                if (r.type() == ElfFile.R_BPF_64_64) {
                    if (code[k] != 0x18) {
                        throw elf.fail("R_BPF_64_64 relocation at insn " + (k - base) + " of " + s.name()
                                + " is not on an LD_IMM64");
                    }
                    imm64[k] = ldImm64Value(elf, maps, sym, imm[k], s);
                    src[k] = 0;
                } else if (r.type() == ElfFile.R_BPF_64_32) {
                    if (code[k] != 0x85) {
                        throw elf.fail("R_BPF_64_32 relocation at insn " + (k - base) + " of " + s.name()
                                + " is not on a call");
                    }
                    if (sym.shndx() == ElfFile.SHN_UNDEF) {
                        bindKfunc(elf, k, sym, s);
                    } else {
                        Integer tb = secBase.get(sym.shndx());
                        if (tb == null) {
                            throw elf.fail("call at insn " + (k - base) + " of " + s.name() + " targets "
                                    + sym.name() + ", which is not code");
                        }
                        callKind[k] = CALL_LOCAL;
                        callArg[k] = tb + (int) (sym.value() / 8) + imm[k] + 1;
                    }
                } else {
                    throw elf.fail("unknown relocation type " + r.type() + " at insn " + (k - base) + " of "
                            + s.name());
                }
            }
            // helpers must exist; local call targets must be in the image
            for (int k = base; k < base + s.size() / 8; k++) {
                if (code[k] != 0x85) {
                    if (code[k] == 0x18) {
                        k++;
                    }
                    continue;
                }
                if (callKind[k] == CALL_HELPER && !HELPERS.contains(callArg[k])) {
                    throw elf.fail("program " + progAt(k) + " calls unknown helper " + callArg[k]);
                }
                if (callKind[k] == CALL_LOCAL && (callArg[k] < 0 || callArg[k] >= code.length)) {
                    throw elf.fail("program " + progAt(k) + " calls outside the code");
                }
            }
        }
    }

    private long ldImm64Value(ElfFile elf, ElfFile.Section maps, ElfFile.Symbol sym, int addend, ElfFile.Section in)
            throws BpfLoadException {
        if (maps != null && sym.shndx() == maps.index()) {
            for (ElfFile.Symbol m : elf.symbols) {
                if (m.shndx() == maps.index() && m.value() == sym.value() + addend && this.maps.containsKey(m.name())) {
                    return this.maps.get(m.name()).selfPtr;
                }
            }
            throw elf.fail("reference to an unknown map in " + in.name());
        }
        Memory.Bytes data = sections.get(sym.shndx());
        if (data != null) {
            return Memory.ptr(data, sym.value() + addend);
        }
        Integer tb = secBase.get(sym.shndx());
        if (tb != null) {
            int insn = tb + (int) ((sym.value() + addend) / 8);
            Memory.Obj f = new Memory.Obj("callback " + progAt(insn), new Memory.Func(insn, progAt(insn)), 0);
            mem.register(f);
            return Memory.ptr(f, 0);
        }
        if (sym.shndx() == ElfFile.SHN_UNDEF) {
            // bpf_ksym_exists(): the address of a weak extern kfunc is non-zero iff it exists
            String n = Kfunc.stripFlavour(sym.name());
            if (sym.bind() != ElfFile.STB_WEAK) {
                throw elf.fail("reference to extern " + sym.name() + ", which only a kernel can resolve");
            }
            return Kfunc.byName(n) != null && !profileLacks.contains(n) ? 1 : 0;
        }
        throw elf.fail("LD_IMM64 relocation against " + sym.name() + " in section "
                + elf.sections.get(sym.shndx()).name() + ", which the loader does not know");
    }

    private void bindKfunc(ElfFile elf, int k, ElfFile.Symbol sym, ElfFile.Section s) throws BpfLoadException {
        String n = Kfunc.stripFlavour(sym.name());
        Kfunc kf = Kfunc.byName(n);
        if (kf == null || profileLacks.contains(n)) {
            if (sym.bind() == ElfFile.STB_WEAK) {
                callKind[k] = CALL_MISSING_WEAK;
                if (!missingWeak.contains(n)) {
                    missingWeak.add(n);
                }
                callArg[k] = missingWeak.indexOf(n);
                return;
            }
            throw new BpfLoadException(path + ": program " + progAt(k) + " calls kfunc " + n + ", which "
                    + (kf == null ? "the emulator does not provide" : "the chosen kernel profile lacks"));
        }
        callKind[k] = CALL_KFUNC;
        callArg[k] = kf.ordinal();
    }

    // --- CO-RE ------------------------------------------------------------------------------------

    static final int CORE_FIELD_BYTE_OFFSET = 0;
    static final int CORE_FIELD_BYTE_SIZE = 1;
    static final int CORE_FIELD_EXISTS = 2;
    static final int CORE_FIELD_SIGNED = 3;
    static final int CORE_TYPE_ID_LOCAL = 6;
    static final int CORE_TYPE_ID_TARGET = 7;
    static final int CORE_TYPE_EXISTS = 8;
    static final int CORE_TYPE_SIZE = 9;
    static final int CORE_ENUMVAL_EXISTS = 10;
    static final int CORE_ENUMVAL_VALUE = 11;
    static final int CORE_TYPE_MATCHES = 12;

    private void applyCore(ElfFile elf) throws BpfLoadException {
        for (Btf.CoreRelo cr : btf.coreRelos) {
            ElfFile.Section s = elf.section(cr.sec());
            Integer base = s == null ? null : secBase.get(s.index());
            if (base == null || cr.insnOff() / 8 >= s.size() / 8) {
                throw elf.fail("CO-RE relocation in unknown section " + cr.sec());
            }
            int k = base + cr.insnOff() / 8;
            long v = coreValue(elf, cr, k);
            int cls = code[k] & 7;
            if (code[k] == 0x18) {
                imm64[k] = v;
            } else if (cls == 1 || cls == 2 || cls == 3) {
                if (cr.kind() == CORE_FIELD_BYTE_OFFSET) {
                    off[k] = (int) v;
                } else {
                    imm[k] = (int) v;
                }
            } else {
                imm[k] = (int) v;
            }
        }
    }

    private long coreValue(ElfFile elf, Btf.CoreRelo cr, int k) throws BpfLoadException {
        Btf.Type root = btf.resolve(cr.typeId());
        String where = "CO-RE relocation at insn " + k + " (" + progAt(k) + ")";
        if (root == null) {
            throw elf.fail(where + " names type " + cr.typeId() + ", which the object's BTF lacks");
        }
        String tname = Kfunc.stripFlavour(root.name);
        switch (cr.kind()) {
            case CORE_TYPE_ID_LOCAL:
            case CORE_TYPE_ID_TARGET:
                return cr.typeId();
            case CORE_TYPE_EXISTS:
            case CORE_TYPE_MATCHES:
                return KernelTypes.STRUCTS.containsKey(tname) || root.kind == Btf.KIND_ENUM
                        || root.kind == Btf.KIND_ENUM64 || root.kind == Btf.KIND_INT ? 1 : 0;
            case CORE_TYPE_SIZE:
                KernelTypes.KStruct ks = KernelTypes.STRUCTS.get(tname);
                return ks != null ? ks.size : btf.sizeOf(root.id);
            case CORE_ENUMVAL_EXISTS:
            case CORE_ENUMVAL_VALUE: {
                int idx = Integer.parseInt(cr.access());
                String en = root.enumerators.get(idx).name();
                Long val = KernelTypes.ENUMS.get(Kfunc.stripFlavour(en));
                if (cr.kind() == CORE_ENUMVAL_EXISTS) {
                    return val != null ? 1 : 0;
                }
                if (val == null) {
                    throw elf.fail(where + ": the kernel has no enumerator " + en);
                }
                return val;
            }
            default:
                break;
        }
        // field relocations: walk the access string through the local type, by member name in the model
        String[] acc = cr.access().split(":");
        Btf.Type lt = root;
        KernelTypes.KStruct kt = KernelTypes.STRUCTS.get(tname);
        if (kt == null) {
            if (cr.kind() == CORE_FIELD_EXISTS) {
                return 0;
            }
            throw elf.fail(where + " accesses struct " + tname + ", which the emulator does not model");
        }
        long toff = Long.parseLong(acc[0]) * kt.size;
        long tsize = kt.size;
        String path = tname;
        for (int i = 1; i < acc.length; i++) {
            int idx = Integer.parseInt(acc[i]);
            if (lt.kind == Btf.KIND_ARRAY) {
                long esz = tsize / Math.max(1, lt.arrayNelems);
                toff += idx * esz;
                tsize = esz;
                lt = btf.resolve(lt.arrayElem);
                continue;
            }
            if (!lt.isComposite() || idx >= lt.members.size()) {
                throw elf.fail(where + ": bad access string " + cr.access());
            }
            Btf.Member m = lt.members.get(idx);
            if (kt == null) {
                throw elf.fail(where + ": " + path + " is not a struct in the emulator's model");
            }
            KernelTypes.KField f = kt.field(m.name());
            path = path + "." + m.name();
            if (f == null) {
                if (cr.kind() == CORE_FIELD_EXISTS) {
                    return 0;
                }
                throw elf.fail(where + ": the emulator's kernel has no field " + path);
            }
            toff += f.off();
            tsize = f.size();
            lt = btf.resolve(m.type());
            kt = f.struct() != null ? KernelTypes.STRUCTS.get(f.struct()) : null;
        }
        switch (cr.kind()) {
            case CORE_FIELD_BYTE_OFFSET:
                return toff;
            case CORE_FIELD_BYTE_SIZE:
                return tsize;
            case CORE_FIELD_EXISTS:
                return 1;
            case CORE_FIELD_SIGNED:
                return lt != null && lt.kind == Btf.KIND_INT && ((lt.sizeOrType >>> 0) != 0) ? 1 : 0;
            default:
                throw elf.fail(where + ": CO-RE relocation kind " + cr.kind() + " is not supported");
        }
    }

    // --- struct_ops ---------------------------------------------------------------------------

    private void findOps(ElfFile elf) throws BpfLoadException {
        ElfFile.Section s = elf.section(".struct_ops.link");
        if (s == null) {
            s = elf.section(".struct_ops");
        }
        if (s == null) {
            throw elf.fail("no struct_ops section: not a sched_ext scheduler");
        }
        ElfFile.Symbol table = null;
        for (ElfFile.Symbol sym : elf.symbols) {
            if (sym.shndx() == s.index() && sym.type() == ElfFile.STT_OBJECT) {
                table = sym;
                break;
            }
        }
        Btf.Type var = table == null ? null : btf.byName(table.name(), Btf.KIND_VAR);
        Btf.Type st = var == null ? null : btf.resolve(var.sizeOrType);
        if (st == null || !st.isComposite() || !st.name.equals("sched_ext_ops")) {
            throw elf.fail("no struct sched_ext_ops table in " + s.name());
        }
        opsTable.varName = table.name();
        byte[] data = elf.data(s);
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int base = (int) table.value();
        Map<Long, ElfFile.Symbol> targets = new HashMap<>();
        for (ElfFile.Reloc r : elf.relocsOf(s)) {
            targets.put(r.offset(), r.sym());
        }
        for (Btf.Member m : st.members) {
            int mo = base + (int) (m.bitOffset() / 8);
            Btf.Type mt = btf.resolve(m.type());
            switch (m.name()) {
                case "name": {
                    int end = mo;
                    while (end < data.length && end < mo + 128 && data[end] != 0) {
                        end++;
                    }
                    opsTable.name = new String(data, mo, end - mo, StandardCharsets.UTF_8);
                    continue;
                }
                case "flags":
                    opsTable.flags = b.getLong(mo);
                    continue;
                case "timeout_ms":
                    opsTable.timeoutMs = b.getInt(mo);
                    continue;
                case "dispatch_max_batch":
                    opsTable.dispatchMaxBatch = b.getInt(mo);
                    continue;
                case "exit_dump_len":
                    opsTable.exitDumpLen = b.getInt(mo);
                    continue;
                default:
                    break;
            }
            if (mt == null || mt.kind != Btf.KIND_PTR) {
                continue;
            }
            ElfFile.Symbol target = targets.get((long) mo);
            if (target == null) {
                continue;
            }
            Integer tb = secBase.get(target.shndx());
            if (tb == null) {
                throw elf.fail("ops." + m.name() + " points at " + target.name() + ", which is not a program");
            }
            opsTable.ops.put(m.name(), tb + (int) (target.value() / 8));
        }
    }

    // --- names for messages -----------------------------------------------------------------------

    /** The program (function) that instruction {@code k} belongs to. */
    String progAt(int k) {
        String best = "?";
        int bestStart = -1;
        for (Prog p : progs) {
            if (p.start() <= k && p.start() > bestStart && (k < p.end() || p.end() == p.start())) {
                best = p.name();
                bestStart = p.start();
            }
        }
        return best;
    }

    /** " at insn N of prog (file:line: text)" for a fault message. */
    String where(int k) {
        Prog best = null;
        for (Prog p : progs) {
            if (p.start() <= k && k < p.end()) {
                best = p;
            }
        }
        String line = k >= 0 && k < lineOf.length ? lineOf[k] : null;
        return "at insn " + (best == null ? k : k - best.start()) + (line == null ? "" : " (" + line + ")");
    }

    Global global(String name) {
        return globals.get(name);
    }
}
