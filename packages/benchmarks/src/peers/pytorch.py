"""The workloads W2-W5 of WORKLOADS.md on PyTorch (CPU, one thread): the peer that `pnpm bench`
runs beside chainrule when `python3` can import torch. One case per process:

    python3 pytorch.py <case> '<options JSON>'

with <case> one of W2/float64, W2/float32, W3/float32, W4/float32, W4/float64, W5/N=1e5, W5/N=1e6
and options {"quick": bool, "samples": int | null, "data": "<dir of the MNIST byte files>"}.
Prints one JSON object to stdout, the CaseOutput of src/result.ts (metrics with raw samples,
reference checks, details, notes); progress goes to stderr. The data, initial weights, batch order
and timed regions are those of WORKLOADS.md, and each case proves it did that work: W2's test
accuracy after epoch 1 (0.7245), W3's loss and accuracy after 120 steps, W4's products against
float64, W5's gradient.
"""

import hashlib
import json
import math
import os
import sys
import time

import torch

MNIST_SHA256 = {
    "images": "fac430b6e7dd1f8181bf02b0d3b447875294b3a780fe5d4a6af50172f6405836",
    "labels": "98c23508f5c6f018c5df282d6becfa38bdf6ea6cdae8f4e14ca2fd5c80053f56",
}


def log(line):
    print(line, file=sys.stderr, flush=True)


# --- WORKLOADS.md section 0: mulberry32, Fisher-Yates, gaussian12 ------------------------------


class Mulberry32:
    """mulberry32: doubles k / 2^32 in [0, 1), bit for bit those of the JavaScript version."""

    def __init__(self, seed):
        self.a = seed & 0xFFFFFFFF

    def next(self):
        self.a = (self.a + 0x6D2B79F5) & 0xFFFFFFFF
        t = self.a
        t = ((t ^ (t >> 15)) * (t | 1)) & 0xFFFFFFFF
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & 0xFFFFFFFF)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296

    def gaussian12(self):
        s = 0.0
        for _ in range(12):
            s += self.next()
        return s - 6


def permutation(n, seed):
    rng = Mulberry32(seed)
    p = list(range(n))
    for i in range(n - 1, 0, -1):
        j = math.floor(rng.next() * (i + 1))
        p[i], p[j] = p[j], p[i]
    return p


assert Mulberry32(42).next() == 0.6011037519201636
assert permutation(10, 7) == [6, 5, 8, 1, 2, 3, 4, 7, 9, 0]


# --- data ----------------------------------------------------------------------------------------


def mnist(data_dir, dtype):
    """Pixels k/255 (in float64, then cast) and labels of the derived byte files, hashes checked."""
    with open(os.path.join(data_dir, "mnist10k_images.u8"), "rb") as f:
        images = f.read()
    with open(os.path.join(data_dir, "mnist10k_labels.u8"), "rb") as f:
        labels = f.read()
    if (
        hashlib.sha256(images).hexdigest() != MNIST_SHA256["images"]
        or hashlib.sha256(labels).hexdigest() != MNIST_SHA256["labels"]
    ):
        raise SystemExit(f"MNIST byte files in {data_dir} do not have the SHA-256 of WORKLOADS.md")
    codes = torch.frombuffer(bytearray(images), dtype=torch.uint8).reshape(10000, 784)
    x = (codes.to(torch.float64) / 255).to(dtype)
    y = torch.frombuffer(bytearray(labels), dtype=torch.uint8).to(torch.int64)
    return x, y


def accuracy(scores, labels):
    # torch.argmax returns the first index of the maximum, as the workloads ask
    return (scores.argmax(dim=1) == labels).to(torch.float64).mean().item()


def check(name, measured, expected, ok):
    return {"name": name, "measured": measured, "expected": expected, "ok": bool(ok)}


# --- W2: Nielsen's 784-30-10 ---------------------------------------------------------------------


def w2(dtype, options):
    x, labels = mnist(options["data"], dtype)
    train_x, train_y = x[:8000], torch.nn.functional.one_hot(labels[:8000], 10).to(dtype)
    test_x, test_labels = x[8000:], labels[8000:]
    rng = Mulberry32(2)

    def gaussian(*shape):
        return torch.tensor([rng.gaussian12() for _ in range(math.prod(shape))], dtype=torch.float64).reshape(shape)

    # gaussian12 in the order W1 (row-major [out][in]), b1, W2, b2
    params = [gaussian(30, 784), gaussian(30), gaussian(10, 30), gaussian(10)]
    params = [p.to(dtype).requires_grad_() for p in params]
    w1, b1, w2_, b2 = params
    epochs = 1 if options["quick"] else (options["samples"] or 10)
    epoch_s, acc = [], {}
    for e in range(epochs):
        order = torch.tensor(permutation(8000, 2000 + e))
        t0 = time.perf_counter()
        for k in range(800):
            rows = order[10 * k : 10 * k + 10]
            xb, yb = train_x[rows], train_y[rows]
            a1 = torch.sigmoid(xb @ w1.T + b1)
            a2 = torch.sigmoid(a1 @ w2_.T + b2)
            cost = 0.5 * ((a2 - yb) ** 2).sum() / 10  # C = (1/m) sum_x 1/2 |a2(x) - y(x)|^2
            for p in params:
                p.grad = None
            cost.backward()
            with torch.no_grad():
                for p in params:
                    p -= 3.0 * p.grad
        epoch_s.append(time.perf_counter() - t0)
        if e + 1 in (1, 3, 10) or e + 1 == epochs:
            with torch.no_grad():
                scores = torch.sigmoid(torch.sigmoid(test_x @ w1.T + b1) @ w2_.T + b2)
            acc[e + 1] = accuracy(scores, test_labels)
        log(f"  epoch {e + 1}: {epoch_s[-1]:.3f} s")
    checks = []
    for epoch, lo, hi, expected in [
        (1, 0.7245, 0.7245, "0.7245 (1449/2000)"),
        (3, 0.862, 0.882, "0.872 ± 0.01"),
        (10, 0.905, 0.926, "0.915–0.916 ± 0.01"),
    ]:
        if epoch in acc:
            a = acc[epoch]
            checks.append(check(f"test accuracy after epoch {epoch}", a, expected, lo - 0.00025 <= a <= hi + 0.00025))
    return {
        "metrics": [{"key": "epoch", "unit": "s", "per": "epoch", "samples": epoch_s}],
        "checks": checks,
        "details": {"epochs": epochs, "accuracy": {str(k): v for k, v in acc.items()}},
        "notes": [],
    }


# --- W3: 784-256-256-10 ReLU ---------------------------------------------------------------------


def w3(options):
    x, labels = mnist(options["data"], torch.float32)
    train_x, train_labels = x[:8000], labels[:8000]
    test_x, test_labels = x[8000:], labels[8000:]
    rng = Mulberry32(3)

    def uniform(fan_in, *shape):
        bound = 1 / math.sqrt(fan_in)
        values = [(2 * rng.next() - 1) * bound for _ in range(math.prod(shape))]
        return torch.tensor(values, dtype=torch.float64).reshape(shape).to(torch.float32).requires_grad_()

    params = [
        uniform(784, 256, 784),
        uniform(784, 256),
        uniform(256, 256, 256),
        uniform(256, 256),
        uniform(256, 10, 256),
        uniform(256, 10),
    ]
    w1, b1, w2_, b2, w3_, b3 = params

    def forward(xb):
        h1 = torch.relu(xb @ w1.T + b1)
        h2 = torch.relu(h1 @ w2_.T + b2)
        return h2 @ w3_.T + b3

    losses = []

    def step(s):
        start = (s % 62) * 128
        loss = torch.nn.functional.cross_entropy(forward(train_x[start : start + 128]), train_labels[start : start + 128])
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= 0.1 * p.grad
        losses.append(loss.item())

    blocks = 1 if options["quick"] else max(3, options["samples"] or 3)
    s = 0
    for _ in range(20):
        step(s)
        s += 1
    block_s, acc = [], float("nan")
    for b in range(blocks):
        t0 = time.perf_counter()
        for _ in range(100):
            step(s)
            s += 1
        block_s.append(time.perf_counter() - t0)
        if s == 120:
            with torch.no_grad():
                acc = accuracy(forward(test_x), test_labels)
        log(f"  steps {s - 100}…{s - 1}: {block_s[-1]:.3f} s")
    loss120 = losses[119]
    return {
        "metrics": [{"key": "block", "unit": "s", "per": "100 steps", "samples": block_s}],
        "checks": [
            check("test accuracy after 120 steps", acc, "0.839 (1678/2000)", abs(acc - 0.839) < 0.00025),
            check("loss of the 120th step's batch", loss120, "0.46624 ± 1e-4", abs(loss120 - 0.46624) <= 1e-4),
        ],
        "details": {"blocks": blocks, "accuracyAfter120": acc, "lossOf120thStep": loss120},
        "notes": [],
    }


# --- W4: square matmul ---------------------------------------------------------------------------


def gemm_protocol(call, flop, samples, fill):
    t0 = time.perf_counter()
    call()
    warm = time.perf_counter() - t0
    reps = max(1, math.ceil(fill / warm))
    count = samples or (3 if warm > 0.5 else 5)
    out = []
    for _ in range(count):
        t0 = time.perf_counter()
        for _ in range(reps):
            call()
        out.append(flop / ((time.perf_counter() - t0) / reps) / 1e9)
    return out


def w4(dtype, options):
    sizes = [64] if options["quick"] else [64, 256, 512, 1024]
    samples, fill = (3, 0.01) if options["quick"] else (options["samples"] and max(3, options["samples"]), 0.2)
    gen = torch.Generator().manual_seed(4)
    metrics, checks = [], []
    tol = 1e-4 if dtype == torch.float32 else 1e-12
    for n in sizes:
        a, b, g = (torch.rand(n, n, generator=gen, dtype=torch.float64) * 2 - 1 for _ in range(3))
        A, B, G = a.to(dtype), b.to(dtype), g.to(dtype)
        Ag, Bg = A.clone().requires_grad_(), B.clone().requires_grad_()

        def forward():
            A @ B

        def forward_backward():
            Ag.grad = None
            Bg.grad = None
            (Ag @ Bg).backward(G)

        if n <= 256:
            forward_backward()
            a64, b64, g64 = A.double(), B.double(), G.double()
            for what, got, want in [
                ("C = A·B", A @ B, a64 @ b64),
                ("dA = G·Bᵀ", Ag.grad, g64 @ b64.T),
                ("dB = Aᵀ·G", Bg.grad, a64.T @ g64),
            ]:
                e = ((got.double() - want).abs().max() / want.abs().max()).item()
                checks.append(check(f"{what} at n={n} vs float64 (relative error)", e, f"≤ {tol}", e <= tol))
        metrics.append(
            {
                "key": f"forward n={n}",
                "unit": "GFLOP/s",
                "per": f"C = A·B, n={n}",
                "samples": gemm_protocol(forward, 2 * n**3, samples, fill),
            }
        )
        metrics.append(
            {
                "key": f"forward+backward n={n}",
                "unit": "GFLOP/s",
                "per": f"C = A·B, dA, dB, n={n}",
                "samples": gemm_protocol(forward_backward, 6 * n**3, samples, fill),
            }
        )
        log(f"  n={n} done")
    return {"metrics": metrics, "checks": checks, "details": {"sizes": sizes}, "notes": []}


# --- W5: a chain of N scalar ops -----------------------------------------------------------------

W5_GRAD = {100000: 1.0050125206110787, 1000000: 1.0512710937785663}


def w5(n, options):
    reps = 1 if options["quick"] else (options["samples"] or 3)
    forward, backward, total = [], [], []
    grad = float("nan")
    for r in range(reps):
        t0 = time.perf_counter()
        x0 = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
        x = x0
        for _ in range(n // 2):
            x = x * 1.0000001
            x = x + 0.0
        t1 = time.perf_counter()
        x.backward()
        t2 = time.perf_counter()
        grad = x0.grad.item()
        del x, x0  # the graph is released before the next rep, untimed
        forward.append(t1 - t0)
        backward.append(t2 - t1)
        total.append(t2 - t0)
        log(f"  rep {r + 1}: forward {t1 - t0:.3f} s, backward {t2 - t1:.3f} s")
    per = f"{n:.0e}".replace("+0", "").replace("+", "") + " ops"
    return {
        "metrics": [
            {"key": "total", "unit": "s", "per": per, "samples": total},
            {"key": "forward", "unit": "s", "per": "forward (graph build)", "samples": forward},
            {"key": "backward", "unit": "s", "per": "backward", "samples": backward},
        ],
        "checks": [check("x0.grad", grad, repr(W5_GRAD[n]), grad == W5_GRAD[n])],
        "details": {"n": n, "reps": reps},
        "notes": [],
    }


# --- the process -------------------------------------------------------------------------------


def blas_libraries():
    """The BLAS and LAPACK libraries mapped into this process (the alternatives system may pick any)."""
    found = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            name = os.path.basename(path)
            if path.startswith("/") and any(s in name for s in ("blas", "lapack", "mkl", "blis")):
                found.add(os.path.realpath(path))
    return sorted(found)


def main():
    case, options = sys.argv[1], json.loads(sys.argv[2])
    torch.set_num_threads(1)
    runs = {
        "W2/float64": lambda: w2(torch.float64, options),
        "W2/float32": lambda: w2(torch.float32, options),
        "W3/float32": lambda: w3(options),
        "W4/float32": lambda: w4(torch.float32, options),
        "W4/float64": lambda: w4(torch.float64, options),
        "W5/N=1e5": lambda: w5(100_000, options),
        "W5/N=1e6": lambda: w5(1_000_000, options),
    }
    output = runs[case]()
    output["details"]["backend"] = {
        "pytorch": torch.__version__,
        "python": sys.version.split()[0],
        "pytorchThreads": torch.get_num_threads(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "unset"),
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
        "pytorchBlas": ", ".join(blas_libraries()) or "none mapped",
    }
    print(json.dumps(output))


if __name__ == "__main__":
    main()
