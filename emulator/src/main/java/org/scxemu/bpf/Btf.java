// SPDX-License-Identifier: GPL-2.0-only
package org.scxemu.bpf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The object's own BTF ({@code .BTF}): its types and strings, and {@code .BTF.ext}: func info,
 * line info and CO-RE relocations per section. Immutable after construction; any thread.
 */
final class Btf {
    static final int KIND_INT = 1;
    static final int KIND_PTR = 2;
    static final int KIND_ARRAY = 3;
    static final int KIND_STRUCT = 4;
    static final int KIND_UNION = 5;
    static final int KIND_ENUM = 6;
    static final int KIND_FWD = 7;
    static final int KIND_TYPEDEF = 8;
    static final int KIND_VOLATILE = 9;
    static final int KIND_CONST = 10;
    static final int KIND_RESTRICT = 11;
    static final int KIND_FUNC = 12;
    static final int KIND_FUNC_PROTO = 13;
    static final int KIND_VAR = 14;
    static final int KIND_DATASEC = 15;
    static final int KIND_FLOAT = 16;
    static final int KIND_DECL_TAG = 17;
    static final int KIND_TYPE_TAG = 18;
    static final int KIND_ENUM64 = 19;

    /** A struct/union member, a datasec entry ({@code type}, {@code offset} in bytes, {@code size}). */
    record Member(String name, int type, long bitOffset, int bitfieldSize) {
    }

    /** An enumerator. */
    record Enumerator(String name, long value) {
    }

    /** One BTF type. {@code sizeOrType} is the size for INT/STRUCT/UNION/ENUM/DATASEC, else a type id. */
    static final class Type {
        final int id;
        final int kind;
        final String name;
        final int vlen;
        final boolean kindFlag;
        final int sizeOrType;
        final List<Member> members = new ArrayList<>();
        final List<Enumerator> enumerators = new ArrayList<>();
        int arrayElem;
        int arrayNelems;

        Type(int id, int kind, String name, int vlen, boolean kindFlag, int sizeOrType) {
            this.id = id;
            this.kind = kind;
            this.name = name;
            this.vlen = vlen;
            this.kindFlag = kindFlag;
            this.sizeOrType = sizeOrType;
        }

        boolean isComposite() {
            return kind == KIND_STRUCT || kind == KIND_UNION;
        }
    }

    /** A CO-RE relocation: patch instruction {@code insnOff} (bytes) of section {@code sec}. */
    record CoreRelo(String sec, int insnOff, int typeId, String access, int kind) {
    }

    /** A line info record: instruction {@code insnOff} (bytes) of {@code sec} comes from file:line. */
    record LineInfo(String sec, int insnOff, String file, String line, int lineNo) {
    }

    /** A func info record: instruction {@code insnOff} of {@code sec} starts function type {@code typeId}. */
    record FuncInfo(String sec, int insnOff, int typeId) {
    }

    final List<Type> types = new ArrayList<>();
    final List<CoreRelo> coreRelos = new ArrayList<>();
    final List<LineInfo> lineInfos = new ArrayList<>();
    final List<FuncInfo> funcInfos = new ArrayList<>();
    private final byte[] strs;

    Btf(byte[] btf, byte[] ext, String path) throws BpfLoadException {
        try {
            ByteBuffer b = ByteBuffer.wrap(btf).order(ByteOrder.LITTLE_ENDIAN);
            if ((b.getShort(0) & 0xffff) != 0xeb9f) {
                throw new BpfLoadException(path + ": .BTF has a bad magic number");
            }
            int hdrLen = b.getInt(4);
            int typeOff = hdrLen + b.getInt(8);
            int typeLen = b.getInt(12);
            int strOff = hdrLen + b.getInt(16);
            int strLen = b.getInt(20);
            if (strOff < 0 || strOff + strLen > btf.length || typeOff < 0 || typeOff + typeLen > btf.length) {
                throw new BpfLoadException(path + ": .BTF is truncated");
            }
            strs = new byte[strLen];
            System.arraycopy(btf, strOff, strs, 0, strLen);
            types.add(new Type(0, 0, "", 0, false, 0)); // void
            int p = typeOff;
            int end = typeOff + typeLen;
            while (p < end) {
                String name = str(b.getInt(p));
                int info = b.getInt(p + 4);
                int sot = b.getInt(p + 8);
                int vlen = info & 0xffff;
                int kind = (info >>> 24) & 0x1f;
                Type t = new Type(types.size(), kind, name, vlen, (info & 0x80000000) != 0, sot);
                p += 12;
                switch (kind) {
                    case KIND_INT:
                    case KIND_VAR:
                    case KIND_DECL_TAG:
                        p += 4;
                        break;
                    case KIND_ARRAY:
                        t.arrayElem = b.getInt(p);
                        t.arrayNelems = b.getInt(p + 8);
                        p += 12;
                        break;
                    case KIND_STRUCT:
                    case KIND_UNION:
                        for (int i = 0; i < vlen; i++, p += 12) {
                            int off = b.getInt(p + 8);
                            long bitOff = t.kindFlag ? off & 0xffffff : off & 0xffffffffL;
                            int bfs = t.kindFlag ? off >>> 24 : 0;
                            t.members.add(new Member(str(b.getInt(p)), b.getInt(p + 4), bitOff, bfs));
                        }
                        break;
                    case KIND_ENUM:
                        for (int i = 0; i < vlen; i++, p += 8) {
                            long v = t.kindFlag ? b.getInt(p + 4) : b.getInt(p + 4) & 0xffffffffL;
                            t.enumerators.add(new Enumerator(str(b.getInt(p)), v));
                        }
                        break;
                    case KIND_ENUM64:
                        for (int i = 0; i < vlen; i++, p += 12) {
                            long v = (b.getInt(p + 4) & 0xffffffffL) | ((long) b.getInt(p + 8) << 32);
                            t.enumerators.add(new Enumerator(str(b.getInt(p)), v));
                        }
                        break;
                    case KIND_FUNC_PROTO:
                        for (int i = 0; i < vlen; i++, p += 8) {
                            t.members.add(new Member(str(b.getInt(p)), b.getInt(p + 4), 0, 0));
                        }
                        break;
                    case KIND_DATASEC:
                        for (int i = 0; i < vlen; i++, p += 12) {
                            t.members.add(new Member("", b.getInt(p), b.getInt(p + 4) * 8L, b.getInt(p + 8)));
                        }
                        break;
                    case KIND_PTR:
                    case KIND_FWD:
                    case KIND_TYPEDEF:
                    case KIND_VOLATILE:
                    case KIND_CONST:
                    case KIND_RESTRICT:
                    case KIND_FUNC:
                    case KIND_FLOAT:
                    case KIND_TYPE_TAG:
                        break;
                    default:
                        throw new BpfLoadException(path + ": .BTF type " + t.id + " has unknown kind " + kind);
                }
                types.add(t);
            }
            if (ext != null) {
                readExt(ext, path);
            }
        } catch (IndexOutOfBoundsException e) {
            throw new BpfLoadException(path + ": .BTF or .BTF.ext is truncated");
        }
    }

    private void readExt(byte[] ext, String path) throws BpfLoadException {
        ByteBuffer b = ByteBuffer.wrap(ext).order(ByteOrder.LITTLE_ENDIAN);
        if ((b.getShort(0) & 0xffff) != 0xeb9f) {
            throw new BpfLoadException(path + ": .BTF.ext has a bad magic number");
        }
        int hdrLen = b.getInt(4);
        int[] offs = {b.getInt(8), b.getInt(16), hdrLen >= 32 ? b.getInt(24) : 0};
        int[] lens = {b.getInt(12), b.getInt(20), hdrLen >= 32 ? b.getInt(28) : 0};
        for (int which = 0; which < 3; which++) {
            if (lens[which] == 0) {
                continue;
            }
            int p = hdrLen + offs[which];
            int end = p + lens[which];
            int recSize = b.getInt(p);
            p += 4;
            while (p < end) {
                String sec = str(b.getInt(p));
                int n = b.getInt(p + 4);
                p += 8;
                for (int i = 0; i < n; i++, p += recSize) {
                    int insnOff = b.getInt(p);
                    if (which == 0) {
                        funcInfos.add(new FuncInfo(sec, insnOff, b.getInt(p + 4)));
                    } else if (which == 1) {
                        int col = b.getInt(p + 12);
                        lineInfos.add(new LineInfo(sec, insnOff, str(b.getInt(p + 4)), str(b.getInt(p + 8)),
                                col >>> 10));
                    } else {
                        coreRelos.add(new CoreRelo(sec, insnOff, b.getInt(p + 4), str(b.getInt(p + 8)),
                                b.getInt(p + 12)));
                    }
                }
            }
        }
    }

    String str(int off) {
        if (off < 0 || off >= strs.length) {
            return "";
        }
        int e = off;
        while (e < strs.length && strs[e] != 0) {
            e++;
        }
        return new String(strs, off, e - off, StandardCharsets.UTF_8);
    }

    Type type(int id) {
        return id >= 0 && id < types.size() ? types.get(id) : null;
    }

    /** The type behind typedefs, const, volatile, restrict and type tags. */
    Type resolve(int id) {
        Type t = type(id);
        for (int guard = 0; t != null && guard < 64; guard++) {
            switch (t.kind) {
                case KIND_TYPEDEF:
                case KIND_VOLATILE:
                case KIND_CONST:
                case KIND_RESTRICT:
                case KIND_TYPE_TAG:
                    t = type(t.sizeOrType);
                    break;
                default:
                    return t;
            }
        }
        return t;
    }

    /** The size in bytes of a type, or -1 when it has none. */
    long sizeOf(int id) {
        Type t = resolve(id);
        if (t == null) {
            return -1;
        }
        switch (t.kind) {
            case KIND_INT:
            case KIND_STRUCT:
            case KIND_UNION:
            case KIND_ENUM:
            case KIND_ENUM64:
            case KIND_DATASEC:
            case KIND_FLOAT:
                return t.sizeOrType & 0xffffffffL;
            case KIND_PTR:
                return 8;
            case KIND_ARRAY:
                long e = sizeOf(t.arrayElem);
                return e < 0 ? -1 : e * t.arrayNelems;
            default:
                return -1;
        }
    }

    /** The first named type of {@code kind} called {@code name}, or null. */
    Type byName(String name, int kind) {
        for (Type t : types) {
            if (t.kind == kind && t.name.equals(name)) {
                return t;
            }
        }
        return null;
    }

    /** The number a map-definition member of type {@code int (*)[N]} encodes: N. */
    long ptrArrayLen(int typeId) {
        Type p = resolve(typeId);
        if (p == null || p.kind != KIND_PTR) {
            return -1;
        }
        Type a = resolve(p.sizeOrType);
        return a == null || a.kind != KIND_ARRAY ? -1 : a.arrayNelems;
    }
}
