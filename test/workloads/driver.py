"""Runs one user's workloads as its children and reports their exact usage: the ground truth.

Usage: driver.py WORKDIR STORM_CHILDREN SECONDS WRITE_MIB BALLAST_MIB
Starts (a) a steady CPU burner, (b) a fork storm, (c) a shell spawning children and (d) a writer.
Prints JSON lines on stdout:
  {"event": "steady"} when only the burner is left running; it keeps burning until stdin is closed,
      so the caller can compare memory readings while nothing is born or dies;
  {"event": "done", "cpu_user": S, "cpu_system": S, "written": BYTES, "storm_children": N} at the end:
      getrusage of the driver itself plus RUSAGE_CHILDREN, which covers every descendant because
      every level waits for its children.
Every interpreter runs with -B (no byte-code cache written) so that the only bytes written to
storage are the writer's.
"""

import json
import os
import resource
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
workdir, storm_children, seconds, write_mib, ballast_mib = sys.argv[1:6]


def python(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-B", "-I", os.path.join(here, script), *args], stdout=subprocess.PIPE
    )


def emit(event: dict) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def report(process: subprocess.Popen, name: str) -> dict:
    output, _ = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"{name} exited with {process.returncode}")
    return json.loads(output)


burner = python("burner.py", ballast_mib)
storm = python("storm.py", storm_children, seconds)
rounds = str(max(1, round(float(seconds) / 0.25)))
spawner = subprocess.Popen(["/bin/sh", os.path.join(here, "spawner.sh"), rounds])
writer = python("writer.py", os.path.join(workdir, "written.bin"), write_mib, seconds)

storm_report = report(storm, "storm")
writer_report = report(writer, "writer")
if spawner.wait() != 0:
    raise SystemExit(f"spawner exited with {spawner.returncode}")
emit({"event": "steady", "burner": burner.pid})

sys.stdin.read()
burner.kill()
burner.wait()
own = resource.getrusage(resource.RUSAGE_SELF)
children = resource.getrusage(resource.RUSAGE_CHILDREN)
emit(
    {
        "event": "done",
        "cpu_user": own.ru_utime + children.ru_utime,
        "cpu_system": own.ru_stime + children.ru_stime,
        "written": writer_report["written"],
        "storm_children": storm_report["children"],
    }
)
# Straight out: interpreter finalization would use CPU after the report was taken.
os._exit(0)
