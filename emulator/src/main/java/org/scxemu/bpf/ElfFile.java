// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.bpf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A 64-bit little-endian ELF relocatable object for {@code EM_BPF}: its sections, symbol table and
 * relocations. Only what a BPF loader needs; every offset is checked against the file so a
 * truncated or corrupt object is refused with one line rather than an exception. Immutable after
 * construction.
 */
final class ElfFile {
    static final int EM_BPF = 247;
    static final int SHT_PROGBITS = 1;
    static final int SHT_SYMTAB = 2;
    static final int SHT_STRTAB = 3;
    static final int SHT_REL = 9;
    static final int SHT_NOBITS = 8;
    static final int SHF_EXECINSTR = 0x4;
    static final int STT_OBJECT = 1;
    static final int STT_FUNC = 2;
    static final int STT_SECTION = 3;
    static final int STB_GLOBAL = 1;
    static final int STB_WEAK = 2;
    static final int SHN_UNDEF = 0;
    /** R_BPF_64_64: a 64-bit immediate of an LD_IMM64 pair. */
    static final int R_BPF_64_64 = 1;
    /** R_BPF_64_ABS64: a 64-bit absolute value in data (struct_ops tables, map-in-map values). */
    static final int R_BPF_64_ABS64 = 2;
    /** R_BPF_64_ABS32: a 32-bit absolute value in data (DWARF; ignored). */
    static final int R_BPF_64_ABS32 = 3;
    /** R_BPF_64_NODYLD32: DWARF/BTF.ext offsets (ignored). */
    static final int R_BPF_64_NODYLD32 = 4;
    /** R_BPF_64_32: the 32-bit immediate of a call (bpf-to-bpf or kfunc). */
    static final int R_BPF_64_32 = 10;

    record Section(int index, String name, int type, long flags, int offset, int size, int link, int info) {
        boolean executable() {
            return type == SHT_PROGBITS && (flags & SHF_EXECINSTR) != 0;
        }
    }

    record Symbol(int index, String name, long value, long size, int type, int bind, int shndx) {
    }

    record Reloc(long offset, int type, Symbol sym) {
    }

    final byte[] bytes;
    final String path;
    final List<Section> sections = new ArrayList<>();
    final List<Symbol> symbols = new ArrayList<>();
    /** Relocations by the index of the section they patch. */
    final Map<Integer, List<Reloc>> relocs = new HashMap<>();

    ElfFile(byte[] bytes, String path) throws BpfLoadException {
        this.bytes = bytes;
        this.path = path;
        if (bytes.length < 64 || bytes[0] != 0x7f || bytes[1] != 'E' || bytes[2] != 'L' || bytes[3] != 'F') {
            throw fail("not an ELF file");
        }
        if (bytes[4] != 2) {
            throw fail("not a 64-bit ELF object");
        }
        if (bytes[5] != 1) {
            throw fail("not a little-endian ELF object");
        }
        ByteBuffer b = buf();
        int machine = b.getShort(18) & 0xffff;
        if (machine != EM_BPF) {
            throw fail("ELF machine " + machine + " is not EM_BPF (247)");
        }
        int etype = b.getShort(16) & 0xffff;
        if (etype != 1) {
            throw fail("not a relocatable object (ELF type " + etype + ")");
        }
        long shoff = b.getLong(40);
        int shentsize = b.getShort(58) & 0xffff;
        int shnum = b.getShort(60) & 0xffff;
        int shstrndx = b.getShort(62) & 0xffff;
        if (shentsize != 64 || shoff < 0 || shoff + (long) shnum * 64 > bytes.length || shstrndx >= shnum) {
            throw fail("truncated or corrupt section header table");
        }
        int[][] raw = new int[shnum][];
        long[] flags = new long[shnum];
        int[] nameOff = new int[shnum];
        for (int i = 0; i < shnum; i++) {
            int h = (int) shoff + i * 64;
            nameOff[i] = b.getInt(h);
            int type = b.getInt(h + 4);
            flags[i] = b.getLong(h + 8);
            long off = b.getLong(h + 24);
            long size = b.getLong(h + 32);
            int link = b.getInt(h + 40);
            int info = b.getInt(h + 44);
            if (type != SHT_NOBITS && type != 0 && (off < 0 || size < 0 || off + size > bytes.length)) {
                throw fail("section " + i + " lies outside the file (truncated object?)");
            }
            raw[i] = new int[] {type, (int) off, (int) size, link, info};
        }
        Section shstr = new Section(shstrndx, "", raw[shstrndx][0], 0, raw[shstrndx][1], raw[shstrndx][2], 0, 0);
        for (int i = 0; i < shnum; i++) {
            sections.add(new Section(i, str(shstr, nameOff[i]), raw[i][0], flags[i], raw[i][1], raw[i][2],
                    raw[i][3], raw[i][4]));
        }
        Section symtab = null;
        for (Section s : sections) {
            if (s.type() == SHT_SYMTAB) {
                symtab = s;
            }
        }
        if (symtab == null) {
            throw fail("no symbol table");
        }
        if (symtab.link() >= shnum) {
            throw fail("corrupt symbol table");
        }
        Section strtab = sections.get(symtab.link());
        for (int i = 0; i * 24 + 24 <= symtab.size(); i++) {
            int s = symtab.offset() + i * 24;
            int name = b.getInt(s);
            int info = bytes[s + 4] & 0xff;
            int shndx = b.getShort(s + 6) & 0xffff;
            symbols.add(new Symbol(i, str(strtab, name), b.getLong(s + 8), b.getLong(s + 16), info & 0xf, info >> 4,
                    shndx));
        }
        for (Section s : sections) {
            if (s.type() != SHT_REL) {
                continue;
            }
            List<Reloc> l = relocs.computeIfAbsent(s.info(), k -> new ArrayList<>());
            for (int i = 0; i * 16 + 16 <= s.size(); i++) {
                int r = s.offset() + i * 16;
                long rinfo = b.getLong(r + 8);
                int symIdx = (int) (rinfo >>> 32);
                if (symIdx >= symbols.size()) {
                    throw fail("relocation in " + s.name() + " names symbol " + symIdx + ", which does not exist");
                }
                l.add(new Reloc(b.getLong(r), (int) rinfo, symbols.get(symIdx)));
            }
        }
    }

    ByteBuffer buf() {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    Section section(String name) {
        for (Section s : sections) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        return null;
    }

    /** A copy of a section's bytes (zeros for NOBITS). */
    byte[] data(Section s) {
        byte[] d = new byte[s.size()];
        if (s.type() != SHT_NOBITS) {
            System.arraycopy(bytes, s.offset(), d, 0, s.size());
        }
        return d;
    }

    List<Reloc> relocsOf(Section s) {
        return relocs.getOrDefault(s.index(), List.of());
    }

    private String str(Section strtab, int off) throws BpfLoadException {
        if (off < 0 || off >= strtab.size()) {
            throw fail("string offset " + off + " outside its string table");
        }
        int start = strtab.offset() + off;
        int end = start;
        int limit = strtab.offset() + strtab.size();
        while (end < limit && bytes[end] != 0) {
            end++;
        }
        return new String(bytes, start, end - start, StandardCharsets.UTF_8);
    }

    BpfLoadException fail(String why) {
        return new BpfLoadException(path + ": " + why);
    }
}
