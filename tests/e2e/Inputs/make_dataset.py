#!/usr/bin/env python3
"""Writes a small learnable 10-class dataset in MNIST's idx format.

Class k is a bright 6x6 block at one of ten fixed places on a 28x28 image,
plus uniform noise. Usage: make_dataset.py DIR [--gz] [--train N] [--test N]
"""
import argparse, gzip, os, random, struct

def images(n, rng, size):
    step = (size - 4) // 4
    places = [(2 + step * (k % 3), 2 + step * (k // 3) * 3 // 4) for k in range(10)]
    data, labels = bytearray(), bytearray()
    for _ in range(n):
        k = rng.randrange(10)
        img = [rng.randrange(0, 60) for _ in range(size * size)]
        y0, x0 = places[k]
        for y in range(y0, min(size, y0 + 6)):
            for x in range(x0, min(size, x0 + 6)):
                img[y * size + x] = 200 + rng.randrange(0, 55)
        data += bytes(img)
        labels.append(k)
    return data, labels

def write(path, header, payload, gz):
    opener = gzip.open if gz else open
    with opener(path + (".gz" if gz else ""), "wb") as f:
        f.write(header + payload)

def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--gz", action="store_true")
    p.add_argument("--train", type=int, default=2000)
    p.add_argument("--test", type=int, default=500)
    p.add_argument("--size", type=int, default=28, help="images are SIZE x SIZE")
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    rng = random.Random(1234)
    for prefix, n in (("train", a.train), ("t10k", a.test)):
        data, labels = images(n, rng, a.size)
        write(os.path.join(a.dir, prefix + "-images-idx3-ubyte"),
              struct.pack(">IIII", 0x803, n, a.size, a.size), bytes(data), a.gz)
        write(os.path.join(a.dir, prefix + "-labels-idx1-ubyte"),
              struct.pack(">II", 0x801, n), bytes(labels), a.gz)

main()
