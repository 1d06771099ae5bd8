"""How many message creates per second the Twilio sandbox serves, with its callbacks.

Starts ``run_twilio_sandbox`` as its own process (callbacks without delay), a callback sink in
this process, then sends N creates from C concurrent connections and waits for every status
callback (three per message: queued, sent, delivered). Prints figures and the machine.

    .venv/bin/python -m bench.sandbox_throughput [--messages 3000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from aiohttp import ClientSession, TCPConnector, web

from sandbox.state import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_NUMBERS

BASE_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


async def wait_for(url: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    async with ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except OSError:
                await asyncio.sleep(0.1)
    raise SystemExit(f"the sandbox did not answer at {url}")


async def run(messages: int, concurrency: int) -> None:
    received = 0
    all_in = asyncio.Event()
    expected = messages * 3

    async def sink(request: web.Request) -> web.Response:
        nonlocal received
        await request.post()
        received += 1
        if received >= expected:
            all_in.set()
        return web.Response(status=204)

    sink_app = web.Application()
    sink_app.router.add_post("/cb", sink)
    runner = web.AppRunner(sink_app, access_log=None)
    await runner.setup()
    sink_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", sink_port).start()

    port = free_port()
    sandbox = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run_twilio_sandbox",
            "--port",
            str(port),
            "--callback-delay-ms",
            "0",
            "--seed",
            "1",
        ],
        cwd=BASE_DIR,
        env={**os.environ, "DEBUG": "true"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        await wait_for(f"{url}/sandbox/stats")
        create = f"{url}/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json"
        credentials = f"{DEFAULT_ACCOUNT_SID}:{DEFAULT_AUTH_TOKEN}".encode()
        auth = {"Authorization": "Basic " + base64.b64encode(credentials).decode()}
        latencies: list[float] = []
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(messages):
            queue.put_nowait(n)

        async def client(session: ClientSession) -> None:
            while not queue.empty():
                n = queue.get_nowait()
                form = {
                    "To": f"+1415666{n % 10000:04d}",
                    "From": DEFAULT_NUMBERS[0],
                    "Body": f"Benchmark message {n}",
                    "StatusCallback": f"http://127.0.0.1:{sink_port}/cb",
                }
                started = time.perf_counter()
                async with session.post(create, data=form, headers=auth) as response:
                    await response.read()
                    if response.status != 201:
                        raise SystemExit(f"create answered {response.status}")
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        connector = TCPConnector(limit=concurrency)
        async with ClientSession(connector=connector) as session:
            await asyncio.gather(*(client(session) for _ in range(concurrency)))
        create_seconds = time.perf_counter() - started
        await asyncio.wait_for(all_in.wait(), timeout=120)
        total_seconds = time.perf_counter() - started
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
        await runner.cleanup()

    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(f"machine: {machine()}")
    print(f"messages: {messages}, concurrency: {concurrency}")
    print(f"creates: {messages / create_seconds:,.0f} per second ({create_seconds:.2f} s)")
    print(
        f"create latency: median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {p95 * 1000:.1f} ms"
    )
    print(
        f"status callbacks: {received} received, all in {total_seconds:.2f} s "
        f"({received / total_seconds:,.0f} per second)"
    )
    print(f"ratio: {messages / create_seconds / 300:.1f}x the 300 creates/s target")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    options = parser.parse_args()
    asyncio.run(run(options.messages, options.concurrency))


if __name__ == "__main__":
    main()
