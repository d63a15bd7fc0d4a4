#!/usr/bin/env python3
"""The hostile-input suite: every case in cases.py runs snnc or a trainer on
bad input (a malformed or special file, an impossible setting, a careless
path, a forged checkpoint) and must end in a one-line error naming what is
wrong, or in correct behaviour, with no crash, no hang, and no file lost,
overwritten or left half-written.

  run.py --snnc PATH --work DIR [--only SUBSTRING] [--list]

Checks made for every case, besides its own expectations:
- the exit code is the expected one (an error: 1 or 2), never a signal;
- stderr has no crash signature (LLVM ERROR, Assertion, Segmentation fault,
  terminate called, Stack dump, AddressSanitizer) and, for an error, one
  line with "error:" only;
- the case ends within its time limit;
- no temporary file (.NAME.XXXXXX.tmp, NAME.tmp) is left in the work
  folder, and /dev/null is still a character device.
"""
import argparse, hashlib, os, re, stat, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases as case_table  # noqa: E402

CRASH = re.compile(r"LLVM ERROR|Assertion|Segmentation fault|terminate called|"
                   r"Stack dump|AddressSanitizer|core dumped|std::bad_alloc")
TEMP = re.compile(r"(^\..+\.[A-Za-z0-9]{6}\.tmp$)|(\.tmp$)|(\.probe$)")


def digest(path):
    if not os.path.lexists(path):
        return None
    if os.path.isdir(path):
        return "dir"
    st = os.lstat(path)
    if not stat.S_ISREG(st.st_mode):
        return "special:%o" % st.st_mode
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def leftovers(work):
    found = []
    for root, dirs, files in os.walk(work):
        for f in files:
            if TEMP.search(f):
                found.append(os.path.join(root, f))
    return found


def run_case(c, env, work):
    w = os.path.join(work, c.name)
    os.makedirs(w, exist_ok=True)
    ctx = dict(env, w=w)
    if c.setup:
        c.setup(ctx)
    before = {p: digest(os.path.join(w, p)) for p in c.unchanged}
    cmd = c.command(ctx)
    start = time.time()
    try:
        p = subprocess.run(cmd, cwd=w, capture_output=True, text=True,
                           errors="replace", timeout=c.timeout,
                           shell=isinstance(cmd, str))
    except subprocess.TimeoutExpired:
        return ["hung: no result within %d s" % c.timeout]
    took = time.time() - start
    problems = []
    err = p.stderr
    if p.returncode < 0 or (128 <= p.returncode < 160 and
                            p.returncode not in c.allowed_rcs()):
        problems.append("killed by a signal (exit %d)" % p.returncode)
    if p.returncode not in c.allowed_rcs():
        problems.append("exit %d, expected %s" % (p.returncode, c.expect))
    if CRASH.search(err):
        problems.append("crash signature in stderr")
    if c.expect == "error":
        lines = [l for l in err.splitlines() if "error:" in l]
        if len(lines) != 1:
            problems.append("%d lines with 'error:' (one expected)" % len(lines))
    if c.stderr and not re.search(c.stderr, err):
        problems.append("stderr does not match /%s/" % c.stderr)
    if c.stdout and not re.search(c.stdout, p.stdout):
        problems.append("stdout does not match /%s/" % c.stdout)
    if c.max_seconds and took > c.max_seconds:
        problems.append("took %.1f s, more than %d s" % (took, c.max_seconds))
    for path, old in before.items():
        if digest(os.path.join(w, path)) != old:
            problems.append("'%s' changed" % path)
    for path in c.exists:
        if not os.path.exists(os.path.join(w, path)):
            problems.append("'%s' missing" % path)
    for path in c.absent:
        if os.path.lexists(os.path.join(w, path)):
            problems.append("'%s' should not exist" % path)
    if not stat.S_ISCHR(os.stat("/dev/null").st_mode):
        problems.append("/dev/null is no longer a character device")
    left = leftovers(w)
    if left:
        problems.append("temporary files left: " + ", ".join(left))
    if c.check:
        msg = c.check(ctx, p)
        if msg:
            problems.append(msg)
    if problems:
        problems.append("stderr: " + err.strip().replace("\n", " | ")[-600:])
    return problems


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--snnc", required=True)
    a.add_argument("--work", required=True)
    a.add_argument("--only", default="")
    a.add_argument("--list", action="store_true")
    args = a.parse_args()
    cases = case_table.CASES
    if args.list:
        for c in cases:
            print("%-40s %s" % (c.name, c.what))
        print("%d cases" % len(cases))
        return 0
    os.makedirs(args.work, exist_ok=True)
    env = case_table.prepare(os.path.abspath(args.snnc),
                             os.path.abspath(args.work))
    failed = 0
    ran = 0
    for c in cases:
        if args.only and args.only not in c.name:
            continue
        ran += 1
        problems = run_case(c, env, os.path.abspath(args.work))
        if problems:
            failed += 1
            print("FAIL %s (%s)" % (c.name, c.what))
            for pr in problems:
                print("     " + pr)
        else:
            print("ok   %s" % c.name)
    print("%d of %d hostile-input cases passed" % (ran - failed, ran))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
