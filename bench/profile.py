"""`python -m bench.profile RAW [--within FRAME] [--parts]`: a py-spy raw profile summed up as text.

py-spy's raw format is one collapsed stack per line with its sample count. This prints, for
the samples whose stack holds FRAME (e.g. `rebuild (shared/projection.py`), the share of
samples spent in each function (inclusive) and where they were spent last (self); with
`--parts`, the share of each part of a service (HTTP, FastStream, the consumer kernel, …).
"""

import argparse
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

# A service's parts, by a frame that marks them, most specific first.
PARTS = (
    ("mailer (compose, SMTP, the mail recorded as sent)", "(services/notifications/mailer.py"),
    ("consumer kernel (batch, tracking rows, handlers)", "(shared/kernel/consumer.py"),
    (
        "FastStream around the kernel (middlewares, DI, ack)",
        "SubscriberUsecase.consume (faststream",
    ),
    ("aiokafka consumer (fetch, decode)", "aiokafka/consumer"),
    ("outbox relay", "(shared/kernel/outbox.py"),
    ("metrics sampling", "(shared/kernel/sampling.py"),
    ("HTTP route handler", "run_endpoint_function (fastapi/routing.py"),
    ("HTTP stack (uvicorn, starlette, fastapi, tracing)", "uvicorn/protocols/http"),
    ("aiokafka producer and client", "aiokafka/"),
    ("PostgreSQL client (asyncpg)", "asyncpg/"),
)


def stacks(raw: Path, within: str = "") -> Iterator[tuple[list[str], int]]:
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or (within and within not in stack):
            continue
        frames = stack.split(";")
        if within:
            frames = frames[next(i for i, f in enumerate(frames) if within in f) :]
        yield frames, int(count)


def _share(counter: Counter[str], total: int, top: int) -> list[str]:
    return [f"  {100 * n / total:5.1f}%  {name}" for name, n in counter.most_common(top)]


def summary(raw: Path, within: str = "", top: int = 25) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for frames, samples in stacks(raw, within):
        total += samples
        for frame in set(frames):
            inclusive[frame] += samples
        own[frames[-1]] += samples
    scope = f" within {within}" if within else ""
    if not total:
        return f"no samples{scope}\n"
    lines = [
        f"{total} samples{scope}",
        "",
        "inclusive (the function and what it called):",
        *_share(inclusive, total, top),
        "",
        "self (the innermost frame):",
        *_share(own, total, top),
    ]
    return "\n".join(lines) + "\n"


def parts(raw: Path, rate: int = 100) -> str:
    counter: Counter[str] = Counter()
    total = 0
    for frames, samples in stacks(raw):
        total += samples
        stack = ";".join(frames)
        counter[next((name for name, mark in PARTS if mark in stack), "other")] += samples
    lines = [
        f"{total} samples ({total / rate:.0f} s at {rate} Hz)",
        *_share(counter, total, len(PARTS) + 1),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("raw", type=Path)
    parser.add_argument("--within", default="", help="only the samples under this frame")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--parts", action="store_true", help="the share of each part of a service")
    args = parser.parse_args()
    print(parts(args.raw) if args.parts else summary(args.raw, args.within, args.top), end="")


if __name__ == "__main__":
    main()
