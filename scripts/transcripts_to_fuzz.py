#!/usr/bin/env python3
"""transcripts_to_fuzz.py - the inference transcripts as seeds for
tests/fuzz/fuzz_infer.c.

    scripts/transcripts_to_fuzz.py tests/transcripts tests/fuzz/corpus-infer

Each tests/transcripts/NAME.t becomes OUT/NAME: a chunk-length byte,
then records (a header byte: bit 7 server, bits 0-6 length; then the
bytes), the C:/C-/S:/S- lines' bytes in order (see transcript.h).
"""

import os
import sys


def convert(path):
    out = bytearray([7])
    for raw in open(path, "rb").read().split(b"\n"):
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if len(raw) < 2 or raw[:1] not in (b"C", b"S") or \
                raw[1:2] not in (b":", b"-"):
            continue
        text = raw[3:] if raw[2:3] == b" " else raw[2:]
        data = text + (b"\r\n" if raw[1:2] == b":" else b"")
        server = 0x80 if raw[:1] == b"S" else 0
        for i in range(0, len(data), 127):
            part = data[i:i + 127]
            out.append(server | len(part))
            out += part
    return bytes(out)


def main(argv):
    src, dst = argv[1], argv[2]
    os.makedirs(dst, exist_ok=True)
    n = 0
    for name in sorted(os.listdir(src)):
        if not name.endswith(".t"):
            continue
        data = convert(os.path.join(src, name))
        with open(os.path.join(dst, name[:-2]), "wb") as f:
            f.write(data)
        n += 1
    print("%d seeds written to %s" % (n, dst))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
