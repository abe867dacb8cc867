"""Writes the comparison's input: a header and ROWS rows of an integer label and ten
Gaussian features with six decimals (python3 make_table.py ROWS FILE)."""

import random
import sys

rows, path = int(sys.argv[1]), sys.argv[2]
random.seed(1)
with open(path, "w") as out:
    out.write("label," + ",".join(f"x{i}" for i in range(10)) + "\n")
    for _ in range(rows):
        out.write(str(random.randrange(3)) + "," + ",".join(f"{random.gauss(0, 10):.6f}" for _ in range(10)) + "\n")
