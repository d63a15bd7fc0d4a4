#!/usr/bin/env python3
"""A signal to one rank of a data-parallel run, and what the run does.

usage: mpi_faults.py SIGNAL SECONDS_BOUND -- mpirun|srun ... trainer ...

Starts the command, waits until its rank-1 trainer has trained a while
(the checkpoint of epoch 1 exists), sends SIGNAL (KILL, STOP, TERM) to that
rank only, and waits at most SECONDS_BOUND for the whole run to end (a
stopped rank is killed afterwards). Prints the run's exit code, how long
it took to end, and its stderr; fails if it did not end in time."""
import os, signal, subprocess, sys, time

sig = getattr(signal, "SIG" + sys.argv[1])
bound = float(sys.argv[2])
cmd = sys.argv[sys.argv.index("--") + 1:]
ckpt = cmd[cmd.index("--checkpoint") + 1]
run = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)


def rank1():
    """The trainer process whose MPI rank is 1."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/environ" % pid, "rb") as f:
                env = f.read().split(b"\0")
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        # mpirun's rank 1, or srun's task 1 (tests/e2e/slurm/check.sh)
        one = b"OMPI_COMM_WORLD_RANK=1" in env or b"SLURM_PROCID=1" in env
        if one and b"--checkpoint" in argv and b"srun" not in argv[0]:
            return int(pid)
    return None


deadline = time.time() + 60
while not os.path.exists(ckpt) and time.time() < deadline and run.poll() is None:
    time.sleep(0.05)
time.sleep(0.3)
pid = rank1()
if pid is None or run.poll() is not None:
    sys.exit("no running rank 1 found")
os.kill(pid, sig)
t0 = time.time()
try:
    _, err = run.communicate(timeout=bound)
except subprocess.TimeoutExpired:
    run.kill()
    _, err = run.communicate()
    print("the run did not end within %.0f s of SIG%s" % (bound, sys.argv[1]))
    sys.exit(1)
finally:
    if sig == signal.SIGSTOP:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
print("rc %d, ended %.1f s after SIG%s to rank 1 (bound %.0f s)"
      % (run.returncode, time.time() - t0, sys.argv[1], bound))
sys.stdout.write(err)
