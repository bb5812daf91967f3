"""Writes and fsyncs MIB mebibytes to PATH in 1 MiB chunks spread over SECONDS.

Usage: writer.py PATH MIB SECONDS
Every chunk is new, page-aligned data in a fresh file, so each page is dirtied exactly once and
/proc/PID/io write_bytes grows by exactly the bytes written. Prints {"written": BYTES}.
"""

import json
import os
import sys
import time

path, mib, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
chunk = b"\xa5" * (1 << 20)
written = 0
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
try:
    for _ in range(mib):
        view = memoryview(chunk)
        while view:
            view = view[os.write(fd, view) :]
        written += len(chunk)
        os.fsync(fd)
        time.sleep(seconds / mib)
finally:
    os.close(fd)
print(json.dumps({"written": written}), flush=True)
