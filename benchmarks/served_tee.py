"""What reading each response body costs the call path (calls/served.py): the tee parses a unary JSON body, or an
SSE stream chunk by chunk, as the client reads it, for the served tier, per-modality usage and grounding queries.

Measured on bodies the strict emulator sends (a unary answer; a streamed one of 64 chunks), in-process, no HTTP:
the time the tee adds per response, beside json.loads of the same bytes for scale (a stream's usage is a running
total, so the tee parses only its last chunk and any chunk with grounding metadata).

    python benchmarks/served_tee.py [--repeat 5000]
"""

from __future__ import annotations

import argparse
import json
import time

from tierwise.calls.served import Seen, _Reader
from tierwise.emulator import wire
from tierwise.emulator.backend import GenerateRequest, Generation


def bodies() -> tuple[bytes, list[bytes]]:
    request = GenerateRequest(model="gemini-3.8-flash", messages=[("user", "q")], media_tokens={"AUDIO": 3200})
    text = " ".join(f"word{i}" for i in range(256))
    gen = Generation(text=text, prompt_tokens=4000, output_tokens=256, thoughts_tokens=120)
    unary = json.dumps(wire.render(request, gen, "r1", signature=True)).encode()
    chunks = [b"data: " + json.dumps(c).encode() + b"\r\n\r\n"
              for c in wire.render_stream(request, gen, "r1", tokens_per_chunk=4, signature=True)]
    return unary, chunks


def per_response_us(repeat: int, run) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        run()
    return (time.perf_counter() - started) / repeat * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5000)
    args = parser.parse_args()
    unary, chunks = bodies()

    def read_unary() -> None:
        reader = _Reader(Seen(), "application/json", "")
        reader.feed(unary)
        reader.close(True)

    def read_stream() -> None:
        reader = _Reader(Seen(), "text/event-stream", "")
        for chunk in chunks:
            reader.feed(chunk)
        reader.close(True)

    def loads_stream() -> None:
        for chunk in chunks:
            json.loads(chunk[6:])

    print(f"unary body {len(unary):,} bytes: tee {per_response_us(args.repeat, read_unary):.1f} µs/response "
          f"(json.loads alone {per_response_us(args.repeat, lambda: json.loads(unary)):.1f} µs)")
    print(f"SSE stream {len(chunks)} chunks, {sum(map(len, chunks)):,} bytes: tee "
          f"{per_response_us(args.repeat // 10, read_stream):.1f} µs/response "
          f"(json.loads of every chunk, for scale: {per_response_us(args.repeat // 10, loads_stream):.1f} µs)")


if __name__ == "__main__":
    main()
