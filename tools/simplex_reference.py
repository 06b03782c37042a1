#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Writes tests/fixtures/noise/simplex.safetensors: 3-D simplex noise of Debian's python3-noise
# (Casey Duncan's `noise`, tools/install-packages python3-noise) at fixed points, from its
# double-precision Python implementation (noise.perlin.SimplexNoise.noise3; the C snoise3 agrees
# with it to single precision).
#
# The anomaly plugin's simplex_noise3 (plugins/anomaly/simplex_lattice.h) takes the permutation
# table as an argument; its test passes the table of python3-noise (its own copy of Ken Perlin's,
# with its one differing entry, index 180: 9 where Perlin's has 19) and must reproduce
# SimplexNoise.noise3 at every point. The file holds "permutation" [256] (F64, the table), "points"
# [P, 3] and "values" [P] (F64), written by hand in the safetensors layout (8-byte
# little-endian header length, JSON header, raw little-endian data).
# usage: /usr/bin/python3 tools/simplex_reference.py [OUTPUT]
import json
import math
import os
import random
import struct
import sys

import noise
from noise.perlin import BaseNoise, SimplexNoise

points = [(0.1, 0.2, 0.3), (1.5, -2.25, 3.75), (10.3, 4.7, 0.0), (-7.9, -0.01, 12.5), (255.5, 256.25, -300.75)]
generator = random.Random(11)
points += [tuple(generator.uniform(-40, 40) for _ in range(3)) for _ in range(59)]
reference = SimplexNoise()
values = [reference.noise3(x, y, z) for x, y, z in points]
permutation = list(BaseNoise.permutation[:256])


def f64(values):
    return b"".join(struct.pack("<d", float(v)) for v in values)


tensors = [("permutation", [256], f64(permutation)), ("points", [len(points), 3], f64([c for p in points for c in p])),
           ("values", [len(values)], f64(values))]
header, offset, blob = {}, 0, b""
for name, shape, data in tensors:
    header[name] = {"dtype": "F64", "shape": shape, "data_offsets": [offset, offset + len(data)]}
    offset += len(data)
    blob += data
header["__metadata__"] = {"generator": "tools/simplex_reference.py", "noise": getattr(noise, "__version__", "1.2.3")}
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * ((8 - len(text) % 8) % 8)
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "noise",
                                                          "simplex.safetensors")
with open(out, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + blob)
print(f"wrote {out}: {len(points)} points")
