#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A trade-off plot from a variant grid's results.csv: metric Y against metric X, one point per
variant, labelled by an axis column and joined in row order (SDEdit's realism-faithfulness
curve: fid against guide_l2, labelled by task.t0). COLUMN=VALUE filters keep rows.

usage: tools/plot-tradeoff.py RESULTS.csv X_METRIC Y_METRIC LABEL_COLUMN OUT.png [COLUMN=VALUE ...]
Needs gnuplot (gnuplot-nox); writes OUT.png, and the points plotted to OUT.dat.
"""
import csv
import shutil
import subprocess
import sys


def main(argv):
    if len(argv) < 5:
        sys.exit(__doc__)
    path, x, y, label, out = argv[:5]
    filters = dict(f.split("=", 1) for f in argv[5:])
    if not shutil.which("gnuplot"):
        sys.exit("error: gnuplot is not installed; apt-get install gnuplot-nox")
    try:
        rows = list(csv.DictReader(open(path, newline="")))
    except FileNotFoundError:
        sys.exit(f"error: {path}: no such file; run the grid first")
    for name in [x, y, label, *filters]:
        if rows and name not in rows[0]:
            sys.exit(f"error: {path} has no column {name}; it has {', '.join(rows[0])}")
    points = [r for r in rows if all(r[k] == v for k, v in filters.items()) and r[x] and r[y]]
    if not points:
        sys.exit(f"error: no rows of {path} match {filters or 'the columns'}")
    data = out.rsplit(".png", 1)[0] + ".dat"
    with open(data, "w") as f:
        for r in points:
            f.write(f"{r[x]} {r[y]} {r[label]}\n")
    script = f"""set terminal pngcairo size 720,480 noenhanced
set output "{out}"
set xlabel "{x}"
set ylabel "{y}"
set key off
set grid
plot "{data}" using 1:2 with linespoints pointtype 7, "" using 1:2:3 with labels offset 1.5,0.7
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    print(out)


if __name__ == "__main__":
    main(sys.argv[1:])
