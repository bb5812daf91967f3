"""A fork storm: COUNT children spread over SECONDS, each burning 5 to 30 ms of CPU, reaped at once.

Usage: storm.py COUNT SECONDS
Most children are born and reaped between two scrapes, so a scraper sees them only through the
storm's reaped-children counters. Prints {"children": COUNT} once every child has been reaped.
"""

import json
import os
import random
import sys
import time

count, seconds = int(sys.argv[1]), float(sys.argv[2])
rng = random.Random(20240601)
started = time.monotonic()


def reap(block: bool) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, 0 if block else os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


for index in range(count):
    burn = rng.uniform(0.005, 0.030)
    if os.fork() == 0:
        # CPU time, not wall time: the children compete with the other workloads for two cores.
        end = time.process_time() + burn
        while time.process_time() < end:
            pass
        os._exit(0)
    reap(block=False)
    delay = started + (index + 1) * seconds / count - time.monotonic()
    if delay > 0:
        time.sleep(delay)
reap(block=True)
print(json.dumps({"children": count}), flush=True)
