#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Stacks horizontal bands of grid PNGs into one figure, for docs: a row of images from each of
several variants (SDEdit's output per t0, one inpainting arm per row). Reads 8-bit greyscale and
RGB PNGs (what difflab writes) with the standard library only; writes RGB if any input is.

usage: tools/stack-rows.py OUT.png FILE.png:ROW [FILE.png:ROW ...]
  ROW is the 0-based row of the grid (rows of 28 px images with 2 px padding: band 2 + 30 ROW).
  Options: --cell N (image side, default 28), --pad N (padding, default 2).
"""
import struct
import sys
import zlib


def read_png(path):
    """(width, channels, rows of width * channels bytes) of an 8-bit greyscale or RGB PNG."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"error: {path}: not a PNG file")
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or color not in (0, 2) or interlace != 0:
                sys.exit(f"error: {path}: only 8-bit greyscale or RGB non-interlaced PNGs are read")
            channels = 1 if color == 0 else 3
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    stride = width * channels
    raw, rows, prev = zlib.decompress(idat), [], bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            left = x >= channels
            a = line[x - channels] if left else 0
            b, c = prev[x], prev[x - channels] if left else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return width, channels, rows


def as_rgb(row):
    return bytearray(v for v in row for _ in range(3))


def write_png(path, width, channels, rows):
    raw = b"".join(b"\x00" + bytes(r) for r in rows)
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, len(rows), 8, 0 if channels == 1 else 2, 0, 0, 0)
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main(argv):
    cell, pad, args = 28, 2, []
    it = iter(argv)
    for a in it:
        if a == "--cell":
            cell = int(next(it))
        elif a == "--pad":
            pad = int(next(it))
        else:
            args.append(a)
    if len(args) < 2:
        sys.exit(__doc__)
    out, bands, widths, channels = args[0], [], set(), 1
    for spec in args[1:]:
        path, _, row = spec.rpartition(":")
        width, channels_here, rows = read_png(path)
        top = int(row) * (cell + pad)
        if top + cell + 2 * pad > len(rows):
            sys.exit(f"error: {path} has no row {row}")
        widths.add(width)
        channels = max(channels, channels_here)
        bands.append((channels_here, rows[top + pad:top + cell + 2 * pad] if bands else rows[top:top + cell + 2 * pad]))
    if len(widths) != 1:
        sys.exit(f"error: the rows differ in width ({sorted(widths)} px); stack grids of as many columns")
    lines = [r if c == channels else as_rgb(r) for c, rows in bands for r in rows]
    write_png(out, widths.pop(), channels, lines)
    print(out)


if __name__ == "__main__":
    main(sys.argv[1:])
