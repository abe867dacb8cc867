"""Writes the array fixtures of SiteArraysTests (run in this directory: python3 make_arrays.py; NumPy 1.17 or later).

The same four 2x2 RGB images are stored channels last (deflated) and channels first
(stored); the other files are one bad case each."""

import numpy as np

nhwc = np.arange(4 * 2 * 2 * 3, dtype=np.float32).reshape(4, 2, 2, 3)
labels = np.array([0, 1, 2, 1], dtype=np.int64)
np.savez_compressed("images_nhwc.npz", x=nhwc, y=labels)
np.savez("images_nchw.npz", features=np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2)), labels=labels.astype(np.uint8))
np.savez("only_x.npz", x=nhwc)
with open("table_v2.npy", "wb") as out:
    np.lib.format.write_array(out, np.array([[1.5, -2.0], [3.0, 4.25], [0.0, 1.0]]), version=(2, 0))
np.save("fortran.npy", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
np.save("big_endian.npy", np.arange(3, dtype=">f4"))
np.save("strings.npy", np.array(["a", "b"]))
