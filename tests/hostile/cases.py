"""The hostile-input cases, one row each: what is tried, the command, and
what must happen (see run.py for the checks every case gets).

Groups: snnc's model files and paths; model attributes and settings; snnc's
options; the trainer's options and output paths; datasets; checkpoints;
signals and concurrent trainers.
"""
import os, shutil, signal, stat, struct, subprocess, time

import fixtures as fx

ERROR = "error"
OK = "ok"


class Case:
    def __init__(self, name, what, cmd, expect=ERROR, stderr=None, stdout=None,
                 setup=None, unchanged=(), exists=(), absent=(), check=None,
                 timeout=60, max_seconds=None, rcs=None):
        self.name, self.what, self.cmd, self.expect = name, what, cmd, expect
        self.stderr, self.stdout, self.setup, self.check = stderr, stdout, setup, check
        self.unchanged, self.exists, self.absent = unchanged, exists, absent
        self.timeout, self.max_seconds, self.rcs = timeout, max_seconds, rcs

    def command(self, ctx):
        return self.cmd(ctx)

    def allowed_rcs(self):
        if self.rcs:
            return self.rcs
        if self.expect == OK:
            return (0,)
        if self.expect == ERROR:
            return (1, 2)
        return (self.expect,)


def prepare(snnc, work):
    """Shared fixtures: the small MLP's trainer, a dataset, a checkpoint."""
    shared = os.path.join(work, "_shared")
    os.makedirs(shared, exist_ok=True)
    env = {"snnc": snnc, "shared": shared}
    env["model"] = os.path.join(shared, "small_mlp.onnxtxt")
    fx.write(env["model"], fx.small_mlp(), "w")
    env["trainer"] = os.path.join(shared, "trainer")
    subprocess.run([snnc, env["model"], "-o", env["trainer"], "--cuda=false"],
                   check=True)
    env["data"] = fx.dataset(shared, "data")
    env["ckpt"] = os.path.join(shared, "good.ckpt")
    if not os.path.exists(env["ckpt"]):
        subprocess.run([env["trainer"], "--data", env["data"], "--dataset",
                        "mnist", "--threads", "1", "--epochs", "1",
                        "--checkpoint", env["ckpt"]], check=True,
                       capture_output=True)
    return env


# ------------------------------------------------------------------ helpers

def snnc(*args):
    return lambda c: [c["snnc"], *[a.format(**c) for a in args]]


def write_model(text, name="m.onnxtxt"):
    def setup(c):
        fx.write(os.path.join(c["w"], name), text, "w")
    return setup


def model_error(name, what, text, stderr, emit="snn"):
    """snnc on a model file that must be refused (at import: --emit=snn)."""
    return Case(name, what, snnc("m.onnxtxt", "--emit=" + emit),
                stderr=stderr, setup=write_model(text))


def trainer(*args, data=True):
    base = ["--data", "{data}", "--dataset", "mnist"] if data else []
    return lambda c: [c["trainer"], *[a.format(**c) for a in base + list(args)],
                      "--threads", "1"]


def copy_shared(*names):
    def setup(c):
        for n in names:
            shutil.copy(os.path.join(c["shared"], n), os.path.join(c["w"], n))
    return setup


def both(*setups):
    def setup(c):
        for s in setups:
            s(c)
    return setup


def touch(name, data=b"keep me\n"):
    return lambda c: fx.write(os.path.join(c["w"], name), data)


def mkfifo(name):
    return lambda c: os.mkfifo(os.path.join(c["w"], name))


def mkdir(name):
    return lambda c: os.makedirs(os.path.join(c["w"], name), exist_ok=True)


def symlink(target, name):
    return lambda c: os.symlink(target.format(**c), os.path.join(c["w"], name))


def data_case(name, what, mutate, stderr, **kw):
    """The trainer on a dataset in the case's folder that `mutate` spoils."""
    def setup(c):
        fx.dataset(c["w"], "d", mutate=mutate, **kw)
    return Case(name, what,
                lambda c: [c["trainer"], "--data", os.path.join(c["w"], "d"),
                           "--dataset", "mnist", "--threads", "1",
                           "--max-steps", "2"],
                stderr=stderr, setup=setup)


def ckpt_case(name, what, edit, stderr, **counts):
    """--resume from a forged checkpoint with a valid checksum."""
    def setup(c):
        fx.forged(c["ckpt"], os.path.join(c["w"], "ck"), edit, **counts)
    return Case(name, what, trainer("--checkpoint", "ck", "--resume",
                                    "--max-steps", "3"),
                stderr=stderr, setup=setup, unchanged=("ck",))


def raw_ckpt_case(name, what, make, stderr):
    """--resume from checkpoint bytes `make(good_bytes)`."""
    def setup(c):
        with open(c["ckpt"], "rb") as f:
            good = f.read()
        fx.write(os.path.join(c["w"], "ck"), make(good))
    return Case(name, what, trainer("--checkpoint", "ck", "--resume"),
                stderr=stderr, setup=setup, unchanged=("ck",))


def flip_bit(data, offset):
    b = bytearray(data)
    b[offset] ^= 0x10
    return bytes(b)


def set_field(c, **kw):
    c.update(kw)


def still_char_device(path):
    def check(ctx, p):
        if not stat.S_ISCHR(os.stat(path).st_mode):
            return path + " is no longer a character device"
    return check


# ---------------------------------------------------------- the signals

def sigterm_then_resume(c):
    """Starts a long run, sends SIGTERM, then resumes it (one shell line)."""
    return ("{t} --data {d} --dataset mnist --threads 1 --epochs 1000 "
            "--checkpoint ck > /dev/null 2> first.err & pid=$!; "
            "for i in $(seq 100); do [ -e ck ] && break; sleep 0.1; done; "
            "sleep 0.3; kill -TERM $pid; wait $pid; rc=$?; cat first.err >&2; "
            "[ $rc -eq 143 ] || exit 90; "
            "{t} --data {d} --dataset mnist --threads 1 --checkpoint ck "
            "--resume --max-steps 100000000 --epochs 1000 > /dev/null & "
            "pid=$!; sleep 1; kill -INT $pid; wait $pid").format(
                t=c["trainer"], d=c["data"])


def interrupts(c):
    """20 resumed runs, each sent SIGINT at a random moment of its steps:
    each must exit 130 with a checkpoint that the next one resumes."""
    return ("cp {ck} ck; for i in $(seq 20); do "
            "{t} --data {d} --dataset mnist --threads 1 --checkpoint ck --resume "
            "--epochs 1000000 --max-steps 1000000000 > /dev/null 2> run.err & pid=$!; "
            "sleep $(python3 -c 'import random; print(random.uniform(0.05, 0.6))'); "
            "kill -INT $pid; wait $pid; rc=$?; "
            "if [ $rc -ne 130 ]; then tail -3 run.err >&2; exit 91; fi; done").format(
                t=c["trainer"], d=c["data"], ck=c["ckpt"])


def two_trainers(c):
    return ("{t} --data {d} --dataset mnist --threads 1 --epochs 1000 "
            "--checkpoint ck > /dev/null 2>&1 & pid=$!; "
            "for i in $(seq 100); do [ -e ck.lock ] && break; sleep 0.05; done; "
            "{t} --data {d} --dataset mnist --threads 1 --epochs 1 "
            "--checkpoint ck --overwrite; rc=$?; kill -TERM $pid; wait $pid; "
            "exit $rc").format(t=c["trainer"], d=c["data"])


def full_disk_metrics(c):
    """/dev/full as the metrics file: the write fails after the checkpoint
    of the epoch is safe."""
    return [c["trainer"], "--data", c["data"], "--dataset", "mnist",
            "--threads", "1", "--epochs", "1", "--checkpoint", "ck",
            "--metrics", "/dev/full"]


# ------------------------------------------------------------------ cases

_M = fx.small_mlp


def lif_with(attrs):
    """The small MLP with attributes on its first LIF layer."""
    return _M().replace("u1, s1 = ai.snn.LIF (c1)",
                        "u1, s1 = ai.snn.LIF <%s> (c1)" % attrs)

CASES = [
    # --- snnc: model files
    Case("model-missing", "the model file does not exist",
         snnc("nothing.onnxtxt"), stderr=r"nothing.onnxtxt: cannot read the model"),
    Case("model-directory", "the model path is a directory",
         snnc("d.onnx"), setup=mkdir("d.onnx"),
         stderr=r"d.onnx: is a directory; the model must be a regular file"),
    Case("model-fifo", "the model is a FIFO nobody writes (no hang)",
         snnc("f.onnx"), setup=mkfifo("f.onnx"), max_seconds=20,
         stderr=r"f.onnx: is a FIFO"),
    Case("model-dev-zero", "the model is a link to /dev/zero (not read forever)",
         snnc("z.onnx"), setup=symlink("/dev/zero", "z.onnx"), max_seconds=20,
         stderr=r"z.onnx: is not a regular file"),
    Case("model-empty-text", "an empty .onnxtxt",
         snnc("e.onnxtxt"), setup=touch("e.onnxtxt", b""),
         stderr=r"e.onnxtxt: the file is empty"),
    Case("model-empty-binary", "an empty .onnx",
         snnc("e.onnx"), setup=touch("e.onnx", b""),
         stderr=r"e.onnx: the file is empty"),
    Case("model-random-bytes", "random bytes as .onnx",
         snnc("r.onnx"), setup=touch("r.onnx", bytes(range(256)) * 8),
         stderr=r"r.onnx: "),
    Case("model-nul-byte", "a NUL byte in a text model",
         snnc("n.onnxtxt"), setup=lambda c: fx.write(
             os.path.join(c["w"], "n.onnxtxt"),
             _M().replace("small_mlp", "small\0mlp").encode()),
         stderr=r"n.onnxtxt:6: a NUL byte"),
    Case("model-unknown-extension", "a model with an unknown extension",
         snnc("m.txt"), setup=touch("m.txt"), stderr=r"unknown model format"),
    Case("model-syntax-error", "a syntax error in a text model",
         snnc("m.onnxtxt"), setup=write_model(_M().replace("=> (", "=> ((")),
         stderr=r"m.onnxtxt:[0-9]+:[0-9]+: "),
    Case("model-truncated-binary", "a binary model cut in half",
         lambda c: "{s} {m} --emit=onnx -o full.onnx && head -c 300 full.onnx "
                   "> half.onnx && {s} half.onnx".format(s=c["snnc"], m=c["model"]),
         stderr=r"half.onnx: "),
    # --- snnc: output paths
    Case("out-is-input", "-o names the model itself",
         snnc("m.onnxtxt", "-o", "m.onnxtxt"), setup=write_model(_M()),
         unchanged=("m.onnxtxt",), stderr=r"would overwrite an input"),
    Case("out-text-is-input", "--emit=snn -o names the model itself",
         snnc("m.onnxtxt", "--emit=snn", "-o", "m.onnxtxt"),
         setup=write_model(_M()), unchanged=("m.onnxtxt",),
         stderr=r"would overwrite an input"),
    Case("out-link-to-input", "-o is a symbolic link to the model",
         snnc("m.onnxtxt", "-o", "link"),
         setup=both(write_model(_M()), symlink("m.onnxtxt", "link")),
         unchanged=("m.onnxtxt",), stderr=r"would overwrite an input"),
    Case("out-directory", "-o is a directory (no DIR.tmp left)",
         snnc("m.onnxtxt", "-o", "outdir"),
         setup=both(write_model(_M()), mkdir("outdir")),
         stderr=r"outdir: is a directory"),
    Case("out-missing-directory", "-o into a missing directory fails at once",
         snnc("m.onnxtxt", "-o", "no/such/dir/trainer"), setup=write_model(_M()),
         max_seconds=5, stderr=r"directory 'no/such/dir' does not exist"),
    Case("out-fifo", "-o is a FIFO (refused, no hang)",
         snnc("m.onnxtxt", "--emit=snn", "-o", "pipe"),
         setup=both(write_model(_M()), mkfifo("pipe")), max_seconds=20,
         stderr=r"pipe: is a FIFO"),
    Case("out-dev-null", "-o /dev/null: written through, still a device",
         snnc("m.onnxtxt", "-o", "/dev/null", "--cuda=false"),
         setup=write_model(_M()), expect=OK,
         check=still_char_device("/dev/null")),
    Case("out-dev-null-text", "--emit=llvm -o /dev/null",
         snnc("m.onnxtxt", "--emit=train", "-o", "/dev/null"),
         setup=write_model(_M()), expect=OK,
         check=still_char_device("/dev/null")),
    Case("out-obj-directory", "--emit=obj -o a directory",
         snnc("m.onnxtxt", "--emit=obj", "-o", "."), setup=write_model(_M()),
         stderr=r"is a directory"),
    Case("out-replaces-regular", "-o over an existing trainer replaces it",
         snnc("m.onnxtxt", "-o", "old", "--cuda=false"),
         setup=both(write_model(_M()), touch("old")), expect=OK,
         check=lambda c, p: None if os.access(os.path.join(c["w"], "old"),
                                              os.X_OK)
         else "the new trainer is not executable"),
    # --- model attributes
    model_error("attr-tau-m-below-one", "tau_m = 0.5 (1 is a memoryless neuron)",
                lif_with("tau_m = 0.5"),
                r"LIF\): attribute 'tau_m' must be >= 1"),
    model_error("attr-tau-m-negative", "tau_m = -3",
                lif_with("tau_m = -3.0"),
                r"attribute 'tau_m' must be >= 1"),
    model_error("attr-reset-unknown", "reset = \"half\"",
                lif_with('reset = "half"'),
                r"LIF\): attribute 'reset' must be zero or subtract, got 'half'"),
    model_error("gemm-bias-shape", "a Gemm bias C of the wrong shape",
                _M().replace("c1 = Gemm <transB = 1> (a0, w1)",
                             "c1 = Gemm <transB = 1> (a0, w1, w2)"),
                r"\(#1, Gemm\): bias 'w2' must have shape \[64\]"),
    model_error("gemm-beta", "Gemm with beta = 0.5 (a scaled bias)",
                _M().replace("c1 = Gemm <transB = 1> (a0, w1)",
                             "c1 = Gemm <transB = 1, beta = 0.5> (a0, w1)"),
                r"only beta = 1 is supported"),
    model_error("if-tau-m", "an IF neuron given tau_m",
                _M().replace("u1, s1 = ai.snn.LIF (c1)",
                             "u1, s1 = ai.snn.IF <tau_m = 4.0> (c1)"),
                r"tau_m"),
    model_error("attr-reset-int", "reset = 1 (an int, not a string)",
                lif_with("reset = 1"),
                r"reset"),
    model_error("attr-tau-m-1e39", "tau_m = 1e39 (beyond float32)",
                lif_with("tau_m = 1e39"),
                r"a number in the model is out of range"),
    model_error("attr-threshold-zero", "threshold = 0",
                lif_with("threshold = 0.0"),
                r"attribute 'threshold' must be > 0"),
    model_error("attr-tau-s-half", "tau_s = 0.5",
                _M().replace("a1 = ai.snn.PSC (s1)", "a1 = ai.snn.PSC <tau_s = 0.5> (s1)"),
                r"attribute 'tau_s' must be >= 1"),
    model_error("attr-T-zero", "T = 0",
                _M().replace("T = 5, tau_s", "T = 0, tau_s"),
                r"attribute 'T' must be >= 1"),
    model_error("attr-T-huge", "T = 2147483647 (refused at once)",
                _M().replace("T = 5, tau_s", "T = 2147483647, tau_s"),
                r"attribute 'T' must be at most 100000"),
    Case("attr-T-1000-cuda", "T = 1000: the CUDA side no longer unrolls the "
         "time loop (was: 123 s and 1.2 GB)",
         snnc("m.onnxtxt", "--emit=loops", "--target=cuda", "-o", "/dev/null"),
         setup=write_model(_M().replace("T = 5", "T = 1000").replace(
             "float[250, 10] spikes", "float[50000, 10] spikes")),
         expect=OK, max_seconds=20),
    model_error("attr-T-disagree", "two nodes disagree on T",
                _M().replace("T = 5, num_classes", "T = 6, num_classes"),
                r"T = 6 disagrees with T = 5"),
    model_error("attr-wrong-type", "tau_m given as an int",
                lif_with("tau_m = 5"),
                r"tau_m"),
    model_error("op-unknown", "an unknown ai.snn op",
                _M().replace("ai.snn.PSC (s1)", "ai.snn.Frobnicate (s1)"),
                r"Frobnicate"),
    model_error("shape-mismatch", "a weight of the wrong shape",
                _M().replace("float[64, 784] w1", "float[64, 783] w1"),
                r"w1"),
    model_error("input-dynamic-dim", "a graph input without a static shape",
                _M().replace("float[50, 784] x", "float[N, 784] x"),
                r"graph input 'x' needs a static shape"),
    model_error("input-zero-dim", "a graph input with a 0 dimension",
                _M().replace("float[50, 784] x", "float[0, 784] x"),
                r"graph input 'x'"),
    model_error("input-overflow", "element count beyond int64",
                _M().replace("float[50, 784] x", "float[4294967296, 4294967296] x")
                .replace("int32[50] labels", "int32[4294967296] labels"),
                r"more than 2\^34 elements"),
    model_error("input-wraps-small", "dims whose product wraps to a small number",
                _M().replace("float[50, 784] x",
                             "float[50, 784, 4294967296, 4294967296] x"),
                r"more than 2\^34 elements"),
    # --- settings (metadata_props)
    model_error("set-epochs-negative", "snn.epochs = -1",
                fx.with_metadata('"snn.epochs": "-1"'), r"metadata 'snn.epochs' must be a whole number"),
    model_error("set-epochs-abc", "snn.epochs = abc",
                fx.with_metadata('"snn.epochs": "abc"'), r"metadata 'snn.epochs'"),
    model_error("set-epochs-zero", "snn.epochs = 0",
                fx.with_metadata('"snn.epochs": "0"'), r"metadata 'snn.epochs'"),
    model_error("set-epochs-fraction", "snn.epochs = 2.5",
                fx.with_metadata('"snn.epochs": "2.5"'), r"metadata 'snn.epochs'"),
    model_error("set-lr-abc", "snn.lr = abc",
                fx.with_metadata('"snn.lr": "abc"'), r"metadata 'snn.lr' must be a finite number > 0"),
    model_error("set-lr-nan", "snn.lr = nan",
                fx.with_metadata('"snn.lr": "nan"'), r"metadata 'snn.lr'"),
    model_error("set-lr-negative", "snn.lr = -1",
                fx.with_metadata('"snn.lr": "-1"'), r"metadata 'snn.lr'"),
    model_error("set-lr-inf", "snn.lr = inf",
                fx.with_metadata('"snn.lr": "inf"'), r"metadata 'snn.lr'"),
    model_error("set-lr-decay-zero", "snn.lr_decay = 0",
                fx.with_metadata('"snn.lr_decay": "0"'), r"metadata 'snn.lr_decay'"),
    model_error("set-na-clip-negative", "snn.na_clip = -5",
                fx.with_metadata('"snn.na_clip": "-5"'), r"metadata 'snn.na_clip'"),
    model_error("set-dataset-bogus", "snn.dataset = bogus",
                fx.with_metadata('"snn.dataset": "bogus"'), r"metadata 'snn.dataset' must be fashion-mnist"),
    model_error("set-backward-bogus", "snn.backward = xyz (no such method)",
                fx.with_metadata('"snn.backward": "xyz"'),
                r"snn.backward = 'xyz' is not among the compiled methods",
                emit="train"),
    model_error("set-optimizer-bogus", "snn.optimizer = rmsprop",
                fx.with_metadata('"snn.optimizer": "rmsprop"'),
                r"metadata 'snn.optimizer' must be adamw, adam or sgd"),
    model_error("set-milestones-decreasing", "snn.milestones = 60,30",
                fx.with_metadata('"snn.milestones": "60,30"'),
                r"metadata 'snn.milestones' must be increasing whole numbers"),
    model_error("set-momentum-negative", "snn.momentum = -0.9",
                fx.with_metadata('"snn.momentum": "-0.9"'),
                r"metadata 'snn.momentum' must be a finite number >= 0"),
    model_error("set-nesterov-adamw", "snn.nesterov = 1 with AdamW",
                fx.with_metadata('"snn.nesterov": "1"'),
                r"Nesterov momentum is an SGD setting", emit="train"),
    model_error("set-backward-malformed", "snn.backward = 'N A'",
                fx.with_metadata('"snn.backward": "N A"'),
                r"metadata 'snn.backward' must be a training method's name"),
    model_error("set-unknown-key", "a misspelt setting (snn.epoch)",
                fx.with_metadata('"snn.epoch": "3"'), r"'snn.epoch': unknown setting"),
    model_error("set-T-zero", "snn.T = 0",
                fx.with_metadata('"snn.T": "0"'), r"metadata 'snn.T'"),
    model_error("set-newline", "a setting value with a newline",
                fx.with_metadata('"snn.dataset": "mnist\\nsetting lr 5"'),
                r"metadata 'snn.dataset'"),
    Case("set-mlir-epochs", "a .mlir model whose @forward has snn.epochs = -1",
         lambda c: "{s} {m} --emit=snn -o f.mlir && sed -i "
                   "'s/snn.epochs = 2.000000e+00 : f32/snn.epochs = -1.0 : f32/' "
                   "f.mlir && grep -q 'snn.epochs = -1.0' f.mlir && "
                   "{s} f.mlir -o t".format(s=c["snnc"], m=c["model"]),
         stderr=r"setting 'snn.epochs' must be a whole number"),
    # --- names that need escaping
    Case("names-with-spaces", "weights and inputs named with spaces, a "
         "newline and '%' (valid ONNX) train and export",
         lambda c: ("{s} {m} --emit=onnx -o plain.onnx && python3 -c \"import sys; "
                    "d=open('plain.onnx','rb').read(); d=d.replace(b'w1', b' \\n')"
                    ".replace(b'labels', b'la %ls'); open('named.onnx','wb').write(d)\" "
                    "&& {s} named.onnx -o t --cuda=false && ./t --data {d} --dataset "
                    "mnist --threads 1 --max-steps 2 --export out.onnx && "
                    "{s} out.onnx --emit=snn | grep -q 'snn.name = \" \\\\0A\"'").format(
                        s=c["snnc"], m=c["model"], d=c["data"]),
         expect=OK, exists=("out.onnx",)),
    # --- snnc options
    Case("opt-neighborhood-module-pass", "--neighborhood=snn-cpu-pipeline "
         "(a module pipeline) is one line, not LLVM ERROR",
         snnc("{model}", "--neighborhood=snn-cpu-pipeline", "--emit=selected"),
         stderr=r"the neighborhood-selection slot holds passes on func.func only"),
    Case("opt-neighborhood-nested", "--neighborhood with a nested pipeline",
         snnc("{model}", "--neighborhood=builtin.module(canonicalize)",
              "--emit=selected"),
         stderr=r"a nested pipeline is not one"),
    Case("opt-neighborhood-unknown", "--neighborhood names no pass",
         snnc("{model}", "--neighborhood=no-such-pass", "--emit=selected"),
         stderr=r"does not refer to a registered pass"),
    Case("opt-chain-group", "--gpu-chain-group=0",
         snnc("{model}", "--gpu-chain-group=0"), stderr=r"--gpu-chain-group must be"),
    Case("opt-gpu-block", "--gpu-block=5000",
         snnc("{model}", "--gpu-block=5000"), stderr=r"--gpu-block must be"),
    Case("opt-conv-grad-input", "--gpu-conv-grad-input=im2col",
         snnc("{model}", "--gpu-conv-grad-input=im2col"),
         stderr=r"--gpu-conv-grad-input must be gemm or cudnn"),
    Case("opt-cpu-unknown", "--cpu names no processor",
         snnc("{model}", "--cpu=pentium9"), stderr=r"--cpu 'pentium9' is not a CPU"),
    Case("opt-driver", "--driver=bogus",
         snnc("{model}", "--driver=bogus"), stderr=r"--driver must be"),
    Case("opt-plugin-missing", "--load-pass-plugin of a missing file",
         snnc("{model}", "--load-pass-plugin=/no/such/plugin.so"),
         stderr=r"cannot load pass plugin"),
    Case("opt-plugin-not-elf", "--load-pass-plugin of a text file",
         snnc("{model}", "--load-pass-plugin={model}"),
         stderr=r"cannot load pass plugin"),
    # --- trainer options
    Case("tr-unknown-option", "an unknown option", trainer("--frobnicate"),
         stderr=r"unknown option '--frobnicate'"),
    Case("tr-missing-value", "an option without its value",
         lambda c: [c["trainer"], "--data", c["data"], "--lr"],
         stderr=r"option '--lr' needs a value"),
    Case("tr-epochs-negative", "--epochs -2", trainer("--epochs", "-2"),
         stderr=r"option '--epochs' needs a whole number"),
    Case("tr-epochs-zero", "--epochs 0", trainer("--epochs", "0"),
         stderr=r"option '--epochs' needs a whole number"),
    Case("tr-lr-zero", "--lr 0 (was: silently the model's lr)",
         trainer("--lr", "0"), stderr=r"option '--lr' needs a finite number > 0"),
    Case("tr-lr-negative", "--lr -1", trainer("--lr", "-1"),
         stderr=r"option '--lr' needs a finite number > 0"),
    Case("tr-lr-nan", "--lr nan", trainer("--lr", "nan"),
         stderr=r"option '--lr' needs a finite number > 0"),
    Case("tr-lr-inf", "--lr inf", trainer("--lr", "inf"),
         stderr=r"option '--lr' needs a finite number > 0"),
    Case("tr-lr-text", "--lr fast", trainer("--lr", "fast"),
         stderr=r"option '--lr' needs a number"),
    Case("tr-lr-decay-zero", "--lr-decay 0", trainer("--lr-decay", "0"),
         stderr=r"option '--lr-decay' needs a finite number > 0"),
    Case("tr-weight-clip-negative", "--weight-clip -1",
         trainer("--weight-clip", "-1"),
         stderr=r"option '--weight-clip' needs a finite number > 0"),
    Case("tr-nmnist-keep", "--nmnist-keep 2", trainer("--nmnist-keep", "2"),
         stderr=r"--nmnist-keep"),
    Case("tr-threads-zero", "--threads 0",
         lambda c: [c["trainer"], "--data", c["data"], "--dataset", "mnist",
                    "--threads", "0"], stderr=r"option '--threads' needs a whole number"),
    Case("tr-max-steps-zero", "--max-steps 0", trainer("--max-steps", "0"),
         stderr=r"option '--max-steps' needs a whole number"),
    Case("tr-seed-negative", "--seed -1", trainer("--seed", "-1"),
         stderr=r"option '--seed' needs a whole number"),
    Case("tr-batch", "--batch other than the compiled one",
         trainer("--batch", "32"), stderr=r"--batch 32 differs"),
    Case("tr-device", "--device tpu", trainer("--device", "tpu"),
         stderr=r"--device must be cpu, cuda or auto"),
    Case("tr-backward", "--backward xyz", trainer("--backward", "xyz"),
         stderr=r"this trainer was compiled without the 'xyz' step \(it holds: na, stbp; snnc --methods\)"),
    Case("tr-schedule", "--schedule linear", trainer("--schedule", "linear"),
         stderr=r"--schedule must be exponential, multistep or cosine"),
    Case("tr-milestones", "--milestones 3,x", trainer("--schedule", "multistep", "--milestones", "3,x"),
         stderr=r"--milestones '3,x' must be increasing whole numbers"),
    Case("tr-lr-min", "--lr-min -1", trainer("--lr-min", "-1"),
         stderr=r"option '--lr-min' needs a finite number >= 0"),
    Case("tr-augment", "--augment with an unknown transform",
         trainer("--augment", "warp"), stderr=r"warp"),
    Case("tr-dataset-bogus", "--dataset bogus names the dataset",
         lambda c: [c["trainer"], "--dataset", "bogus"],
         stderr=r"unknown dataset 'bogus'"),
    Case("tr-data-missing", "--data of a missing folder",
         lambda c: [c["trainer"], "--data", "nowhere", "--dataset", "mnist"],
         stderr=r"nowhere: no such data folder"),
    Case("tr-resume-no-checkpoint", "--resume without --checkpoint",
         trainer("--resume"), stderr=r"--resume needs --checkpoint"),
    Case("tr-resume-missing", "--resume from a missing checkpoint",
         trainer("--checkpoint", "none.ckpt", "--resume"),
         stderr=r"none.ckpt: cannot read the checkpoint"),
    # --- trainer output paths (all checked before the first step)
    Case("tr-ckpt-directory", "--checkpoint is a directory",
         trainer("--checkpoint", "cd"), setup=mkdir("cd"), max_seconds=20,
         stderr=r"cd: is a directory; --checkpoint needs a file path"),
    Case("tr-ckpt-missing-dir", "--checkpoint in a missing directory",
         trainer("--checkpoint", "no/dir/ck"),
         stderr=r"directory 'no/dir' does not exist"),
    Case("tr-ckpt-fifo", "--checkpoint is a FIFO (refused, no hang)",
         trainer("--checkpoint", "p"), setup=mkfifo("p"), max_seconds=20,
         stderr=r"p: is a FIFO"),
    Case("tr-ckpt-dev-null", "--checkpoint /dev/null trains, /dev/null stays",
         trainer("--checkpoint", "/dev/null", "--epochs", "1"), expect=OK,
         check=still_char_device("/dev/null")),
    Case("tr-all-dev-null", "every output /dev/null",
         trainer("--checkpoint", "/dev/null", "--plot", "/dev/null", "--export",
                 "/dev/null", "--metrics", "/dev/null", "--epochs", "1"),
         expect=OK, check=still_char_device("/dev/null")),
    Case("tr-export-is-checkpoint", "--export equal to --checkpoint",
         trainer("--checkpoint", "same", "--export", "same"),
         stderr=r"--export and --checkpoint are the same file"),
    Case("tr-export-is-trainer", "--export over the trainer binary itself",
         lambda c: [c["trainer"], "--data", c["data"], "--dataset", "mnist",
                    "--export", c["trainer"]],
         stderr=r"would overwrite an input"),
    Case("tr-metrics-is-plot", "--metrics equal to --plot",
         trainer("--metrics", "x", "--plot", "x"),
         stderr=r"are the same file"),
    Case("tr-ckpt-exists", "a new run over an existing checkpoint is refused",
         trainer("--checkpoint", "ck"), setup=touch("ck"), unchanged=("ck",),
         stderr=r"ck: a checkpoint is already there"),
    Case("tr-metrics-exists", "a new run over an existing metrics file",
         trainer("--metrics", "m.jsonl"), setup=touch("m.jsonl"),
         unchanged=("m.jsonl",), stderr=r"m.jsonl: the metrics file already"),
    Case("tr-overwrite", "--overwrite replaces checkpoint and metrics",
         trainer("--checkpoint", "ck", "--metrics", "m.jsonl", "--epochs", "1",
                 "--overwrite"),
         setup=both(touch("ck"), touch("m.jsonl")), expect=OK,
         check=lambda c, p: None if open(os.path.join(c["w"], "m.jsonl")).read()
         .startswith('{"epoch": 1') else "metrics not rewritten"),
    Case("tr-plot-missing-dir", "--plot into a missing directory fails "
         "before training", trainer("--plot", "no/dir/p.svg", "--checkpoint", "ck"),
         max_seconds=10, absent=("ck",), stderr=r"directory 'no/dir' does not exist"),
    Case("tr-export-missing-dir", "--export into a missing directory fails "
         "before training", trainer("--export", "no/dir/m.onnx"), max_seconds=10,
         stderr=r"cannot write --export"),
    Case("tr-metrics-full-disk", "metrics on a full disk (/dev/full): an "
         "error, but the epoch's checkpoint is safe",
         full_disk_metrics, exists=("ck",), stderr=r"/dev/full: cannot write"),
    Case("tr-max-steps-reached", "--resume --max-steps at the checkpoint's "
         "step takes no step", trainer("--checkpoint", "good.ckpt", "--resume",
                                       "--max-steps", "1"),
         setup=copy_shared("good.ckpt"), expect=OK, unchanged=("good.ckpt",),
         stdout=r"the checkpoint is at step [0-9]+ already"),
    # --- datasets
    data_case("data-images-magic", "idx images with a wrong magic number",
              lambda f: f.update({"train-images-idx3-ubyte": b"\0\0\x09\x99" +
                                  f["train-images-idx3-ubyte"][4:]}),
              r"train-images-idx3-ubyte: not an idx3 image file"),
    data_case("data-labels-magic", "idx labels with a wrong magic number",
              lambda f: f.update({"t10k-labels-idx1-ubyte": b"garbage!"}),
              r"t10k-labels-idx1-ubyte: not an idx1 label file"),
    data_case("data-images-truncated", "images cut short",
              lambda f: f.update({"train-images-idx3-ubyte":
                                  f["train-images-idx3-ubyte"][:5000]}),
              r"truncated: the header promises 200 images"),
    data_case("data-images-longer", "images longer than the header says",
              lambda f: f.update({"train-images-idx3-ubyte":
                                  f["train-images-idx3-ubyte"] + b"x" * 100}),
              r"train-images-idx3-ubyte: holds \(or inflates to\) more than"),
    data_case("data-header-wraps", "a header whose size wraps 64 bits",
              lambda f: f.update({"train-images-idx3-ubyte":
                                  struct.pack(">IIII", 0x803, 0xFFFFFFFF, 65536, 65536)}),
              r"the header promises 4294967295 images"),
    data_case("data-header-zero-rows", "a header with 0 rows",
              lambda f: f.update({"train-images-idx3-ubyte":
                                  struct.pack(">IIII", 0x803, 200, 0, 28)}),
              r"sizes from 1 to 65536"),
    data_case("data-label-range", "a label of 12",
              lambda f: f.update({"train-labels-idx1-ubyte":
                                  f["train-labels-idx1-ubyte"][:8] + b"\x0c" +
                                  f["train-labels-idx1-ubyte"][9:]}),
              r"label 12 of item 0 is out of range"),
    data_case("data-label-count", "fewer labels than images",
              lambda f: f.update({"train-labels-idx1-ubyte":
                                  fx.idx_labels([1] * 150)}),
              r"150 labels for 200 images"),
    data_case("data-test-14x14", "14x14 test images beside 28x28 training "
              "images (was: reads past the buffer)", None,
              r"test samples of 196 values do not match", test=(50, 14)),
    data_case("data-test-56x56", "56x56 test images",
              None, r"test samples of 3136 values do not match", test=(50, 56)),
    data_case("data-train-20x20", "20x20 training images",
              None, r"training samples of 400 values", train=(200, 20)),
    data_case("data-test-empty", "an empty test set (was: 0.00%)",
              None, r"the test set is empty", test=(0, 28)),
    data_case("data-train-empty", "an empty training set",
              None, r"the training set is empty", train=(0, 28)),
    data_case("data-train-small", "fewer training samples than one batch",
              None, r"fewer samples than one batch", train=(20, 28)),
    Case("data-gzip-bomb", "a small .gz that inflates far past its header "
         "(stopped at the header's size)",
         lambda c: [c["trainer"], "--data", "d", "--dataset", "mnist",
                    "--threads", "1", "--max-steps", "1"],
         setup=lambda c: fx.dataset(c["w"], "d", gz=True, mutate=lambda f: f.update(
             {"train-images-idx3-ubyte": f["train-images-idx3-ubyte"] +
              b"\0" * (64 << 20)})),
         max_seconds=30, stderr=r"holds \(or inflates to\) more than"),
    Case("data-gzip-corrupt", "a corrupt .gz",
         lambda c: [c["trainer"], "--data", "d", "--dataset", "mnist"],
         setup=lambda c: (fx.dataset(c["w"], "d", gz=True), fx.write(
             os.path.join(c["w"], "d", "t10k-labels-idx1-ubyte.gz"),
             b"\x1f\x8b\x08\x00" + b"\xff" * 40)),
         stderr=r"t10k-labels-idx1-ubyte.gz: "),
    Case("data-images-directory", "the images file is a directory",
         lambda c: [c["trainer"], "--data", "d", "--dataset", "mnist"],
         setup=lambda c: (fx.dataset(c["w"], "d", mutate=lambda f: f.update(
             {"train-images-idx3-ubyte": None})),
             os.makedirs(os.path.join(c["w"], "d", "train-images-idx3-ubyte"))),
         stderr=r"train-images-idx3-ubyte: not a regular file"),
    Case("data-images-fifo", "the images file is a FIFO (no hang)",
         lambda c: [c["trainer"], "--data", "d", "--dataset", "mnist"],
         setup=lambda c: (fx.dataset(c["w"], "d", mutate=lambda f: f.update(
             {"train-images-idx3-ubyte": None})),
             os.mkfifo(os.path.join(c["w"], "d", "train-images-idx3-ubyte"))),
         max_seconds=20, stderr=r"not a regular file"),
    Case("data-labels-missing", "the labels file is missing",
         lambda c: [c["trainer"], "--data", "d", "--dataset", "mnist"],
         setup=lambda c: fx.dataset(c["w"], "d", mutate=lambda f: f.update(
             {"t10k-labels-idx1-ubyte": None})),
         stderr=r"t10k-labels-idx1-ubyte\[.gz\]: no such file"),
    Case("data-cifar-truncated", "a CIFAR-10 batch that is not whole records",
         lambda c: [c["trainer"], "--data", "c", "--dataset", "cifar10"],
         setup=lambda c: [fx.write(os.path.join(c["w"], "c", n), b"\1" * 5000)
                          for n in ["data_batch_%d.bin" % i for i in range(1, 6)]
                          + ["test_batch.bin"]],
         stderr=r"not a whole number of 3073-byte records"),
    Case("data-cifar-missing", "CIFAR-10 files missing",
         lambda c: [c["trainer"], "--data", "c", "--dataset", "cifar10"],
         setup=mkdir("c"), stderr=r"data_batch_1.bin: no such file"),
    Case("data-nmnist-empty", "an N-MNIST folder without recordings",
         lambda c: [c["trainer"], "--data", "n", "--dataset", "nmnist"],
         setup=lambda c: [os.makedirs(os.path.join(c["w"], "n", s, "0"))
                          for s in ("Train", "Test")],
         stderr=r"no recordings"),
    # --- checkpoints
    raw_ckpt_case("ck-truncated", "a checkpoint cut short",
                  lambda g: g[:len(g) // 2], r"ck: corrupt checkpoint \(checksum"),
    raw_ckpt_case("ck-flipped-weight", "one flipped bit in a weight "
                  "(was: loaded silently)",
                  lambda g: flip_bit(g, len(g) - 200), r"checksum mismatch"),
    raw_ckpt_case("ck-flipped-header", "one flipped bit in the step count",
                  lambda g: flip_bit(g, 40), r"checksum mismatch"),
    raw_ckpt_case("ck-garbage", "a file that is no checkpoint",
                  lambda g: b"hello world, not a checkpoint",
                  r"ck: not an snnc checkpoint"),
    raw_ckpt_case("ck-empty", "an empty checkpoint", lambda g: b"",
                  r"ck: not an snnc checkpoint"),
    raw_ckpt_case("ck-magic-only", "only the magic number",
                  lambda g: g[:8], r"ck: truncated checkpoint"),
    ckpt_case("ck-epoch-huge", "epoch = 2^40 with a valid checksum "
              "(was: segfault)", lambda c: set_field(c, epoch=1 << 40),
              r"corrupt checkpoint \(1 epochs of history for epoch 1099511627776\)"),
    ckpt_case("ck-epoch-2-63", "epoch = 2^62", lambda c: set_field(c, epoch=1 << 62),
              r"corrupt checkpoint \(epoch = "),
    ckpt_case("ck-batch-negative", "a negative batch-in-epoch (was: segfault)",
              lambda c: set_field(c, batch=-5), r"corrupt checkpoint \(batch in epoch = -5\)"),
    ckpt_case("ck-batch-huge", "batch-in-epoch beyond the epoch",
              lambda c: set_field(c, batch=1000), r"is at batch 1000 of an epoch"),
    ckpt_case("ck-step-negative", "a negative step (was: loaded silently)",
              lambda c: set_field(c, step=-7), r"corrupt checkpoint \(step = -7\)"),
    ckpt_case("ck-correct-gt-seen", "more correct predictions than samples",
              lambda c: set_field(c, correct=100, seen=10),
              r"more correct predictions than samples"),
    ckpt_case("ck-loss-nan", "a NaN loss sum",
              lambda c: set_field(c, loss_sum=float("nan")), r"loss sum is not finite"),
    ckpt_case("ck-weight-nan", "a NaN weight",
              lambda c: c["tensors"][0][0].__setitem__(3, float("nan")),
              r"holds a value that is not finite"),
    ckpt_case("ck-tensor-missing", "one parameter tensor fewer than the model",
              lambda c: c["tensors"].pop(), r"holds 1 parameter tensors, the model has 2"),
    ckpt_case("ck-tensor-short", "a parameter with too few values",
              lambda c: [v.pop() for v in c["tensors"][1]],
              r"parameter 'w2' has 639 values"),
    ckpt_case("ck-history-count", "a history count that disagrees with the epoch",
              lambda c: None, r"epochs of history for epoch", history_count=3),
    ckpt_case("ck-tensor-count-huge", "a parameter count of 2^40",
              lambda c: None, r"corrupt checkpoint", tensor_count=1 << 40),
    ckpt_case("ck-other-fingerprint", "a checkpoint of another network",
              lambda c: set_field(c, fingerprint=12345),
              r"the checkpoint belongs to a different model"),
    Case("ck-is-directory", "--resume from a directory",
         trainer("--checkpoint", "cd", "--resume"), setup=mkdir("cd"),
         stderr=r"cd: is a directory"),
    Case("ck-other-tau", "resume with tau_m changed is refused (was: accepted)",
         lambda c: ("sed 's/u1, s1 = ai.snn.LIF (c1)/u1, s1 = ai.snn.LIF "
                    "<tau_m = 4.0> (c1)/' {m} > tau.onnxtxt && {s} tau.onnxtxt -o t "
                    "--cuda=false && cp {ck} ck && ./t --data {d} --dataset mnist "
                    "--checkpoint ck --resume").format(
                        m=c["model"], s=c["snnc"], ck=c["ckpt"], d=c["data"]),
         stderr=r"the checkpoint belongs to a different model"),
    Case("ck-other-epochs", "resume with only snn.epochs changed is accepted "
         "(was: refused)",
         lambda c: ("sed 's/\"snn.epochs\": \"2\"/\"snn.epochs\": \"3\"/' {m} > "
                    "e.onnxtxt && {s} e.onnxtxt -o t --cuda=false && cp {ck} ck && "
                    "./t --data {d} --dataset mnist --checkpoint ck --resume "
                    "--threads 1").format(m=c["model"], s=c["snnc"], ck=c["ckpt"],
                                          d=c["data"]),
         expect=OK, stdout=r"done: 3 epochs"),
    # --- signals and concurrency
    Case("sig-term", "SIGTERM writes a checkpoint and exits 143; the run "
         "resumes", sigterm_then_resume, expect=130, exists=("ck",),
         stderr=r"terminated \(SIGTERM\) after step", timeout=120),
    Case("sig-int-twenty", "Ctrl-C at 20 random moments of resumed runs "
         "(was: heap corruption in about 1 run in 10)", interrupts, expect=OK,
         exists=("ck",), timeout=180),
    Case("two-trainers", "a second trainer on a checkpoint in use",
         two_trainers, stderr=r"another trainer is using this checkpoint",
         timeout=120),
]
