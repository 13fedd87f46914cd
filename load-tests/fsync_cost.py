#!/usr/bin/env python3
"""What one fsync costs this machine, in CPU and in time: 12 KiB writes (about one group
commit of the daemon) into a 64 MiB file written beforehand, with and without `fdatasync`
after each; then the same writes with `fdatasync` appended to a file that grows, as into a
new write-ahead log, where every fsync must also persist the file's new size and extents.

    python3 load-tests/fsync_cost.py [DIR]     # DIR: where the data dir would live (default .)
"""
import os
import sys
import tempfile
import time

SIZE = 64 << 20
WRITE = b"x" * 12 * 1024


def measure(fd, label, sync, append, seconds=5):
    t0, w0, n, off, lat = os.times(), time.time(), 0, 0, []
    while time.time() - w0 < seconds:
        s = time.perf_counter()
        if append:
            os.write(fd, WRITE)
        else:
            os.pwrite(fd, WRITE, off)
            off = (off + len(WRITE)) % SIZE
        if sync:
            os.fdatasync(fd)
        lat.append(time.perf_counter() - s)
        n += 1
    t1 = os.times()
    lat.sort()
    cpu = (t1.user + t1.system - t0.user - t0.system) / n * 1e6
    system = (t1.system - t0.system) / n * 1e6
    print(f"{label:28}: {n} rounds, CPU {cpu:.1f} µs "
          f"(system {system:.1f} µs) per round; p50 {lat[n // 2] * 1e3:.3f} ms, "
          f"p99 {lat[int(n * 0.99)] * 1e3:.3f} ms, max {lat[-1] * 1e3:.1f} ms")


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "."
    fd, path = tempfile.mkstemp(dir=directory, prefix="fsync-cost-")
    try:
        os.write(fd, b"\0" * SIZE)
        os.fsync(fd)
        measure(fd, "write only", sync=False, append=False)
        measure(fd, "write + fdatasync", sync=True, append=False)
    finally:
        os.close(fd)
        os.unlink(path)
    fd, path = tempfile.mkstemp(dir=directory, prefix="fsync-cost-grow-")
    try:
        measure(fd, "append + fdatasync (growing)", sync=True, append=True)
    finally:
        os.close(fd)
        os.unlink(path)


if __name__ == "__main__":
    main()
