#!/usr/bin/env python3
"""Write the integrity sidecar of the PKCS#11 module: <module>.hmac.

The power-on self-test "integrity" (src/crypto/selftest.c) computes
HMAC-SHA256 over the module's non-writable PT_LOAD segments as loaded in
memory, in program-header order, and compares it with the 64 hex digits of
"<module path>.hmac".  This script computes the same value from the file:
for each PT_LOAD program header without PF_W, file[p_offset : p_offset +
p_filesz].  Memory equals file for those segments because the module is
linked PIC with -z relro -z now and without text relocations: every
relocation the loader applies lands in the writable (RELRO) segment.

The key is fixed and public (integrity, not authenticity: whoever can
replace the module can replace its sidecar).  It must match
st_integrity_key in src/crypto/selftest.c.

Usage: integrity.py MODULE.so [OUTPUT]   (OUTPUT defaults to MODULE.so.hmac)
       integrity.py --verify MODULE.so   (exit 1 when the sidecar differs)
Python 3 standard library only (struct, hmac, hashlib).
"""
import hashlib
import hmac
import os
import struct
import sys

KEY = b"craton-hsm module integrity v1"
PT_LOAD = 1
PF_W = 0x2


class ElfError(Exception):
    pass


def readonly_segments(data):
    """(offset, size) of the non-writable PT_LOAD segments, header order."""
    if len(data) < 64 or data[:4] != b"\x7fELF":
        raise ElfError("not an ELF file")
    if data[4] != 2:
        raise ElfError("not ELF64")
    endian = {1: "<", 2: ">"}.get(data[5])
    if endian is None:
        raise ElfError("unknown ELF data encoding")
    phoff, = struct.unpack_from(endian + "Q", data, 0x20)
    phentsize, phnum = struct.unpack_from(endian + "HH", data, 0x36)
    if phentsize < 56 or phoff + phentsize * phnum > len(data):
        raise ElfError("malformed program header table")
    segs = []
    for i in range(phnum):
        (p_type, p_flags, p_offset, _vaddr, _paddr, p_filesz,
         _memsz, _align) = struct.unpack_from(endian + "IIQQQQQQ", data, phoff + i * phentsize)
        if p_type != PT_LOAD or p_flags & PF_W:
            continue
        if p_offset + p_filesz > len(data):
            raise ElfError("segment %d extends past the end of the file" % i)
        segs.append((p_offset, p_filesz))
    if not segs:
        raise ElfError("no read-only PT_LOAD segment")
    return segs


def module_mac(path):
    with open(path, "rb") as f:
        data = f.read()
    mac = hmac.new(KEY, digestmod=hashlib.sha256)
    for off, size in readonly_segments(data):
        mac.update(data[off:off + size])
    return mac.hexdigest()


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main(argv):
    try:
        if len(argv) == 3 and argv[1] == "--verify":
            with open(argv[2] + ".hmac") as f:
                ok = f.read().strip() == module_mac(argv[2])
            print("%s: %s" % (argv[2], "OK" if ok else "MISMATCH"))
            return 0 if ok else 1
        if len(argv) not in (2, 3) or argv[1].startswith("-"):
            print(__doc__.strip().split("\n\n")[2], file=sys.stderr)
            return 2
        out = argv[2] if len(argv) == 3 else argv[1] + ".hmac"
        write_atomic(out, module_mac(argv[1]) + "\n")
        return 0
    except (OSError, ElfError, struct.error) as e:
        print("integrity.py: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
