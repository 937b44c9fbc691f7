#!/usr/bin/env python3
"""Writes the .npy fixtures of tests/unit/test_npy.cpp with NumPy (run once; files are kept)."""
import numpy as np
from numpy.lib import format as fmt

a = np.arange(6, dtype=np.float64).reshape(2, 3) / 4.0 - 0.5
np.save('f64_2x3.npy', a)
np.save('f32_4.npy', np.array([1.5, -2.25, 3.0, 1e-30], dtype=np.float32))
np.save('i64_scalar.npy', np.array(7, dtype=np.int64))
np.save('i32_2x0.npy', np.zeros((2, 0), dtype=np.int32))
with open('v2_f32_3x2.npy', 'wb') as f:
    fmt.write_array(f, np.array([[1, 2], [3, 4], [5, 6]], dtype=np.float32), version=(2, 0))
np.save('fortran_2x2.npy', np.asfortranarray(np.array([[1, 2], [3, 4]], dtype=np.float32)))
np.save('bigendian_f4.npy', np.array([1, 2], dtype='>f4'))
np.save('complex.npy', np.array([1 + 2j], dtype=np.complex64))
raw = open('f32_4.npy', 'rb').read()
open('truncated.npy', 'wb').write(raw[:-3])
open('not_npy.npy', 'wb').write(b'hello, this is text\n')
# float16 ('<f2'): normal, subnormal (2^-24), the largest finite value, -inf and -0.
np.save('f16_5.npy', np.array([1.5, 2.0 ** -24, 65504.0, -np.inf, -0.0], dtype=np.float16))
