# The one place that names fastw2v's numeric types (STYLE.md convention 4).
from libc.stdint cimport int32_t, int64_t

ctypedef float real_t      # weights: float32 everywhere
ctypedef int32_t id_t      # word ids
ctypedef int64_t count_t   # token counts and positions
