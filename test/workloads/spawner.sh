#!/bin/sh
# A shell that spawns and reaps children: a busy subshell, a two-process pipeline and a sleep per round.
# Usage: spawner.sh ROUNDS
i=0
while [ "$i" -lt "$1" ]; do
  (
    j=0
    while [ "$j" -lt 3000 ]; do j=$((j + 1)); done
  )
  head -c 400000 /dev/zero | md5sum >/dev/null
  sleep 0.2
  i=$((i + 1))
done
