"""Giving memory back: a node's heap shrinks again after a burst of large requests.

glibc's allocator serves a large block (128 KiB and up, at first) straight from the operating
system and returns it when freed, but every such free raises that threshold to the block's
size, up to 32 MiB. After a few large requests (a flood of megabyte registrations, a push of
big batches) every later large block comes from the heap, whose freed memory stays with the
process, scattered among live blocks from gRPC's threads. Measured on a node: a flood of
3.9 MB registrations took it from 88 MB to over 1 GB that it never gave back. Fixing the
threshold (which stops it from moving) keeps large blocks out of the heap for good, and a
lower trim threshold lets the heap's top go back sooner. Elsewhere than glibc this does
nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
"""``mallopt`` parameters (malloc.h)."""

MMAP_THRESHOLD = 64 * 1024
"""Blocks at least this large come from (and go back to) the operating system."""

TRIM_THRESHOLD = 128 * 1024
"""Free memory at the heap's top beyond this is given back."""


def give_memory_back() -> bool:
    """Fix glibc's thresholds for this process; False where there is no glibc ``mallopt``."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
    if not done:
        log.info("the C library did not take the memory thresholds; left as they were")
    return done
