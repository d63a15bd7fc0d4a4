"""Fixtures for the hostile-input suite: models, datasets and checkpoints,
good and bad, written into the work folder before the cases run.

Everything here is plain Python (struct, gzip, zlib): the checkpoint
writer follows the format of runtime/trainer/Checkpoint.cpp (format 2:
magic, payload, CRC-32), so that cases can hold a valid checksum over an
impossible field.
"""
import gzip, os, random, struct, zlib

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMALL_MLP = os.path.join(SRC, "tests", "e2e", "Inputs", "small_mlp.onnxtxt")


def write(path, data, mode="wb"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(data)


# ---------------------------------------------------------------- models

def small_mlp():
    with open(SMALL_MLP) as f:
        return f.read()


def model_variant(old, new, count=1):
    text = small_mlp()
    assert old in text, old
    return text.replace(old, new, count)


def with_metadata(props):
    return model_variant(
        '"snn.dataset": "mnist", "snn.epochs": "2", "snn.lr": "0.002"', props)


# --------------------------------------------------------------- datasets

def idx_images(n, rows, cols, rng, declared_n=None, magic=0x803, extra=b""):
    header = struct.pack(">IIII", magic, n if declared_n is None else declared_n,
                         rows, cols)
    return header + bytes(rng.randrange(256) for _ in range(n * rows * cols)) + extra


def idx_labels(labels, declared_n=None, magic=0x801):
    n = len(labels) if declared_n is None else declared_n
    return struct.pack(">II", magic, n) + bytes(labels)


def dataset(root, name, train=(200, 28), test=(50, 28), gz=False, mutate=None):
    """A learnable-enough MNIST-format dataset; `mutate(files)` edits the
    dict {file name: bytes} before it is written."""
    rng = random.Random(7)
    files = {}
    for prefix, (n, size) in (("train", train), ("t10k", test)):
        files[prefix + "-images-idx3-ubyte"] = idx_images(n, size, size, rng)
        files[prefix + "-labels-idx1-ubyte"] = idx_labels(
            [rng.randrange(10) for _ in range(n)])
    if mutate:
        mutate(files)
    d = os.path.join(root, name)
    os.makedirs(d, exist_ok=True)
    for fname, data in files.items():
        if data is None:
            continue
        if gz:
            write(os.path.join(d, fname + ".gz"), gzip.compress(data))
        else:
            write(os.path.join(d, fname), data)
    return d


# ------------------------------------------------------------ checkpoints

MAGIC3 = b"SNNCKPT3"
RECORD = struct.Struct("<q6d")  # EpochRecord: epoch, 6 doubles


def parse_checkpoint(data):
    """The fields of a format-3 checkpoint (the CRC is checked)."""
    assert data[:8] == MAGIC3
    body, crc = data[:-4], struct.unpack("<I", data[-4:])[0]
    assert zlib.crc32(body) & 0xFFFFFFFF == crc
    pos = 8
    def take(fmt):
        nonlocal pos
        v = struct.unpack_from(fmt, body, pos)
        pos += struct.calcsize(fmt)
        return v
    c = {}
    (c["fingerprint"], c["epoch"], c["batch"], c["step"], c["seed"],
     c["validation"], c["loss_sum"], c["correct"],
     c["seen"]) = take("<QqqqQqdqq")
    (h,) = take("<Q")
    c["history"] = [take("<q6d") for _ in range(h)]
    (p,) = take("<Q")
    c["tensors"] = []
    for _ in range(p):
        triple = []
        for _ in range(3):
            (n,) = take("<Q")
            triple.append(list(take("<%df" % n)))
        c["tensors"].append(triple)
    assert pos == len(body)
    return c


def build_checkpoint(c, history_count=None, tensor_count=None):
    out = bytearray(MAGIC3)
    out += struct.pack("<QqqqQqdqq", c["fingerprint"], c["epoch"], c["batch"],
                       c["step"], c["seed"], c["validation"], c["loss_sum"],
                       c["correct"], c["seen"])
    out += struct.pack("<Q", len(c["history"]) if history_count is None
                       else history_count)
    for r in c["history"]:
        out += struct.pack("<q6d", *r)
    out += struct.pack("<Q", len(c["tensors"]) if tensor_count is None
                       else tensor_count)
    for triple in c["tensors"]:
        for v in triple:
            out += struct.pack("<Q", len(v)) + struct.pack("<%df" % len(v), *v)
    out += struct.pack("<I", zlib.crc32(bytes(out)) & 0xFFFFFFFF)
    return bytes(out)


def forged(good_path, out_path, edit, **counts):
    """A checkpoint with a valid checksum over fields `edit(c)` changed."""
    with open(good_path, "rb") as f:
        c = parse_checkpoint(f.read())
    edit(c)
    write(out_path, build_checkpoint(c, **counts))
