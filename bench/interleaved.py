#!/usr/bin/env python3
"""Median wall time of short commands run interleaved, round by round.

    interleaved.py ROUNDS 'command a' 'command b' ...

Each round runs every command once (in reverse order every other round),
after 5 warm-up rounds. For millisecond commands on a shared 2-core VM the
machine's speed drifts over seconds; hyperfine runs all of one command and
then all of the next, so the drift lands on one side. Interleaving puts
both sides under the same drift. Prints one line per command: the median in
ms and the ratio to the first command's median. Output goes to /dev/null;
spawn and wait cost the same for every command (posix_spawn, waitpid).
"""
import os
import shlex
import statistics
import sys
import time

WARMUP = 5


def main() -> None:
    rounds = int(sys.argv[1])
    commands = [shlex.split(c) for c in sys.argv[2:]]
    devnull = os.open(os.devnull, os.O_WRONLY)
    actions = [(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
    times = [[] for _ in commands]
    for round_ in range(WARMUP + rounds):
        order = list(range(len(commands)))
        if round_ % 2:
            order.reverse()
        for i in order:
            start = time.perf_counter_ns()
            pid = os.posix_spawnp(commands[i][0], commands[i], os.environ, file_actions=actions)
            os.waitpid(pid, 0)
            if round_ >= WARMUP:
                times[i].append((time.perf_counter_ns() - start) / 1e6)
    base = statistics.median(times[0])
    for command, samples in zip(sys.argv[2:], times):
        median = statistics.median(samples)
        print(f"{median:.3f} {median / base:.3f} {command}")


if __name__ == "__main__":
    main()
