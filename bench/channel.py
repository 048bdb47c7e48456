"""Benchmark: the live channel's media playlist against nginx serving the same bytes.

One hub on embedded defaults in a temp dir (``media-hub db upgrade``, then ``media-hub
serve --no-worker``, which makes the default channel and its station ident), run the
production way: ``MEDIA_HUB_WEB_WORKERS`` web processes (default: one per core) and no
access log (nginx keeps it), as docker-compose.yml sets them. One nginx (config written
into the temp dir: ``daemon off``, ``worker_processes auto``, pid/logs/temp/cache there)
serves two things:

(s) static  the limit: a static file holding exactly the bytes of one live media
            playlist response, at the same path;
(a) app     the hub alone: ``GET /channels/<slug>/live/<rung>.m3u8`` straight to uvicorn;
(c) cached  the documented production setup: ``deploy/nginx/media-hub.conf`` itself (its
            cache folder, upstream and listen lines replaced, nothing else) with its
            1-second micro-cache in front of the hub.

Each target gets ``--connections`` (200) keep-alive clients on loopback for ``--seconds``
(10) after a 2 s warm-up, ``--repeat`` rounds of (s, a, c) back to back; reported: the
median requests/s, p50 and p99 latency of each target, its errors (socket errors and
non-2xx), and the ratios (a)/(s), (c)/(s) as medians of the per-round ratios (which cancel
the drift of other load). Targets (the channel issue): (a) >= 10% of (s) with p99 < 50 ms,
(c) >= 80% of (s). Figures are printed and written to ``bench/results/channel-<date>.json``.

The load generator is ``wrk`` (Debian: ``apt-get install wrk``; nginx: ``apt-get install
nginx``). Without wrk a Python asyncio client is used; on 2 cores it is itself the
bottleneck (it saturates around the app's rate), so its nginx figures and ratios mean
little. Client and servers share the machine: run it on an otherwise idle one (it waits
for quiet before each run and reports how much CPU other processes took).

Run from the project root (about 4 minutes)::

    .venv/bin/python bench/channel.py [--seconds 10] [--repeat 5] [--workers N] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from machine import busy_seconds, command_output, git_state, wait_idle, write_results

ROOT = Path(__file__).resolve().parent.parent
NGINX_CONF = ROOT / "deploy" / "nginx" / "media-hub.conf"
TARGET_APP = 0.10  # (a)/(s) at least
TARGET_APP_P99_MS = 50.0
TARGET_CACHED = 0.80  # (c)/(s) at least
TARGETS = {"s": "nginx static file (limit)", "a": "hub alone (uvicorn)", "c": "nginx micro-cache -> hub"}


# --- processes ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def tree_cpu(roots: list[int]) -> float:
    """CPU seconds (user + system) of the live processes under ``roots`` (included)."""
    tree, total, todo = _children(), 0.0, list(roots)
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, []))
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
    return total


def stop(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    """Stop a process this script started (in its own session) and everything it started."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def get(url: str, timeout: float = 5) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as res:
            return res.status, {k.lower(): v for k, v in res.headers.items()}, res.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def start_hub(tmp: Path, port: int, workers: int, access_log: bool, hub_src: Path | None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIA_HUB_")}  # embedded defaults
    env.update(MEDIA_HUB_DATA_DIR=str(tmp / "data"), MEDIA_HUB_WEB_WORKERS=str(workers),
               MEDIA_HUB_ACCESS_LOG=str(access_log).lower(), PYTHONPATH=str(hub_src or ROOT))
    cli = [sys.executable, "-m", "media_hub.cli"]
    # cwd: the temp dir, so no .env of the project is read
    subprocess.run([*cli, "db", "upgrade"], cwd=tmp, env=env, check=True, stdout=subprocess.DEVNULL)
    log = open(tmp / "serve.log", "wb")
    return subprocess.Popen([*cli, "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_for(url: str, proc: subprocess.Popen, log: Path, timeout: float = 180) -> bytes:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            status, _, body = get(url, 2)
            if status == 200:
                return body
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} not up after {timeout:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")


def nginx_config(tmp: Path, hub_port: int, cached_port: int, static_port: int) -> str:
    """The production config templated into a standalone, non-root nginx.conf."""
    conf = NGINX_CONF.read_text()
    for pattern, value in ((r"proxy_cache_path \S+", f"proxy_cache_path {tmp}/nginx/cache"),
                           (r"server api:8000;", f"server 127.0.0.1:{hub_port};"),
                           (r"listen 80;", f"listen 127.0.0.1:{cached_port};")):
        conf, n = re.subn(pattern, value, conf)
        if n != 1:
            raise SystemExit(f"{NGINX_CONF}: expected one `{pattern}` (bench: line), found {n}")
    temp = "\n".join(f"    {d}_temp_path {tmp}/nginx/{d};" for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""# written by bench/channel.py
worker_processes auto;
daemon off;
pid {tmp}/nginx/nginx.pid;
error_log {tmp}/nginx/error.log warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    access_log off;              # both nginx targets alike; the hub runs without its access log
    keepalive_requests 1000000;  # wrk's connections stay open for the whole run, as with uvicorn
{temp}

# ---- {NGINX_CONF.relative_to(ROOT)} ----
{conf}
# ---- the limit: the same bytes as a static file ----
server {{
    listen 127.0.0.1:{static_port};
    root {tmp}/www;
}}
}}
"""


# --- load ----------------------------------------------------------------------------------


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}[unit]


def run_wrk(url: str, seconds: float, connections: int, threads: int) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    pct = {p: _ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M)}
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),
            "requests": int(re.search(r"(\d+) requests in", out)[1]),
            "p50_ms": pct["50"], "p75_ms": pct["75"], "p90_ms": pct["90"], "p99_ms": pct["99"],
            "errors": (sum(map(int, sock.groups())) if sock else 0) + (int(non2xx[1]) if non2xx else 0),
            "client_cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
            "raw": out}


async def _python_load(host: str, port: int, path: str, seconds: float, connections: int) -> dict:
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client():
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(re.search(rb"(?i)content-length:\s*(\d+)", head)[1])
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - t0)
                if not head.startswith(b"HTTP/1.1 200"):
                    errors += 1
        except (OSError, asyncio.IncompleteReadError, TypeError):
            errors += 1
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    elapsed = time.perf_counter() - t0
    latencies.sort()
    at = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1e3  # noqa: E731
    return {"rps": len(latencies) / elapsed, "requests": len(latencies), "p50_ms": at(0.50), "p75_ms": at(0.75),
            "p90_ms": at(0.90), "p99_ms": at(0.99), "errors": errors}


def run_python(url: str, seconds: float, connections: int, _threads: int) -> dict:
    m = re.fullmatch(r"http://([^:/]+):(\d+)(/.*)", url)
    t0 = resource.getrusage(resource.RUSAGE_SELF)
    result = asyncio.run(_python_load(m[1], int(m[2]), m[3], seconds, connections))
    t1 = resource.getrusage(resource.RUSAGE_SELF)
    result["client_cpu"] = (t1.ru_utime + t1.ru_stime) - (t0.ru_utime + t0.ru_stime)
    return result


# --- main ----------------------------------------------------------------------------------



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10, help="seconds per measurement (default 10)")
    ap.add_argument("--connections", type=int, default=200, help="concurrent clients (default 200)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2, help="wrk threads (default: cores)")
    ap.add_argument("--repeat", type=int, default=5, help="rounds of (s, a, c) (default 5)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="MEDIA_HUB_WEB_WORKERS of the hub (default: cores, as in production)")
    ap.add_argument("--access-log", action="store_true", help="keep the hub's access log on (default off)")
    ap.add_argument("--wait-idle", type=float, default=30, metavar="S",
                    help="before each run, wait up to S s for the machine to go quiet (default 30, 0: don't)")
    ap.add_argument("--hub-src", type=Path, help="run the hub from this source tree (e.g. an older checkout)")
    ap.add_argument("--python-client", action="store_true", help="use the Python client even if wrk is there")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (hub data, nginx config and logs)")
    args = ap.parse_args()

    if not shutil.which("nginx"):
        raise SystemExit("nginx is needed: apt-get install nginx")
    wrk = shutil.which("wrk") and not args.python_client
    if not wrk:
        print("wrk not found (apt-get install wrk): using the Python asyncio client, which on a small "
              "machine is the bottleneck: the nginx figures and the ratios will be too low", flush=True)
    load = run_wrk if wrk else run_python

    tmp = Path(tempfile.mkdtemp(prefix="bench-channel-"))
    tmp.chmod(0o755)  # nginx workers (an unprivileged user when started as root) read www/
    hub = nginx = None
    try:
        hub_port, cached_port, static_port = free_port(), free_port(), free_port()
        t0 = time.perf_counter()
        hub = start_hub(tmp, hub_port, args.workers, args.access_log, args.hub_src)
        m3u = wait_for(f"http://127.0.0.1:{hub_port}/channels.m3u", hub, tmp / "serve.log").decode()
        master_path = re.search(r"^https?://[^/]+(/channels/[^/]+/live\.m3u8)$", m3u, re.M)[1]  # the default channel
        master = wait_for(f"http://127.0.0.1:{hub_port}{master_path}", hub, tmp / "serve.log")
        path = next(line for line in master.decode().splitlines() if line and not line.startswith("#"))
        app_url = f"http://127.0.0.1:{hub_port}{path}"
        t1 = time.monotonic()
        while True:  # a new channel's playlist grows until its window is full: wait for it to slide
            status, headers, body = get(app_url)
            if status != 200 or b"#EXT-X-MEDIA-SEQUENCE:0\n" not in body or time.monotonic() - t1 > 120:
                break
            time.sleep(0.5)
        assert status == 200 and headers["content-type"] == "application/vnd.apple.mpegurl", (status, headers)
        print(f"hub up in {time.perf_counter() - t0:.1f} s ({args.workers} web worker(s), access log "
              f"{'on' if args.access_log else 'off'}); playlist {path}: {len(body)} bytes, "
              f"{headers['cache-control']}", flush=True)

        static = tmp / "www" / path.lstrip("/")
        static.parent.mkdir(parents=True, mode=0o755)
        static.write_bytes(body)
        (tmp / "nginx").mkdir()
        conf = tmp / "nginx" / "nginx.conf"
        conf.write_text(nginx_config(tmp, hub_port, cached_port, static_port))
        check = subprocess.run(["nginx", "-t", "-q", "-c", str(conf), "-p", str(tmp / "nginx")],
                               capture_output=True, text=True)
        if check.returncode:
            raise SystemExit(f"nginx -t failed:\n{check.stderr}")
        nginx = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(tmp / "nginx")], stdout=subprocess.DEVNULL,
                                 stderr=open(tmp / "nginx" / "stderr.log", "wb"), start_new_session=True)
        urls = {"s": f"http://127.0.0.1:{static_port}{path}", "a": app_url,
                "c": f"http://127.0.0.1:{cached_port}{path}"}
        wait_for(urls["s"], nginx, tmp / "nginx" / "stderr.log", 20)

        # The micro-cache: a miss then hits, the hub's headers passed on, the same playlist.
        checks = [get(urls["c"]) for _ in range(3)]
        cache_states = [h.get("x-cache-status") for _, h, _ in checks]
        same = any(get(urls["a"])[2] == get(urls["c"])[2] for _ in range(5))
        print(f"micro-cache: X-Cache-Status {', '.join(map(str, cache_states))}; Cache-Control "
              f"{checks[-1][1].get('cache-control')!r}; same playlist as the hub: {same}", flush=True)
        if not same or cache_states[-1] != "HIT":
            raise SystemExit("the micro-cache does not work as documented")
        size = {k: len(get(u)[2]) for k, u in urls.items()}

        runs: dict[str, list[dict]] = {k: [] for k in TARGETS}
        for i in range(args.repeat):
            for key, label in TARGETS.items():
                waited = wait_idle(args.wait_idle) if args.wait_idle > 0 else 0.0
                load(urls[key], 2, args.connections, args.threads)  # warm-up: connections, caches
                cpu0, busy0, t0 = tree_cpu([nginx.pid, hub.pid]), busy_seconds(), time.perf_counter()
                load1 = os.getloadavg()[0]
                r = load(urls[key], args.seconds, args.connections, args.threads)
                wall = time.perf_counter() - t0
                server_cpu = tree_cpu([nginx.pid, hub.pid]) - cpu0
                others = max(0.0, busy_seconds() - busy0 - server_cpu - r["client_cpu"])
                r.update(server_cpu=server_cpu, others_cpu_share=others / wall / (os.cpu_count() or 1),
                         load1=load1, waited=waited)
                r.pop("raw", None)
                runs[key].append(r)
                print(f"  run {i + 1}/{args.repeat} ({key}) {label:26s} {r['rps']:9.0f} req/s  p50 "
                      f"{r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  errors {r['errors']}  "
                      f"[servers {r['server_cpu'] / wall:.2f} + client {r['client_cpu'] / wall:.2f} cores; "
                      f"others {100 * r['others_cpu_share']:.0f}% of the machine, load {load1:.1f}]", flush=True)

        med = {k: {m: statistics.median(r[m] for r in rs) for m in ("rps", "p50_ms", "p99_ms")}
               for k, rs in runs.items()}
        for k, rs in runs.items():
            med[k]["errors"] = sum(r["errors"] for r in rs)
        # Each round measures s, a, c back to back: per-round ratios cancel the drift of other load.
        per_round = {f"{k}_over_s": [ra["rps"] / rs["rps"] for rs, ra in zip(runs["s"], runs[k])] for k in "ac"}
        ratios = {"app_over_static": statistics.median(per_round["a_over_s"]),
                  "cached_over_static": statistics.median(per_round["c_over_s"]), "per_round": per_round}
        ok_app = ratios["app_over_static"] >= TARGET_APP and med["a"]["p99_ms"] < TARGET_APP_P99_MS
        ok_cached = ratios["cached_over_static"] >= TARGET_CACHED
        others = statistics.mean(r["others_cpu_share"] for rs in runs.values() for r in rs)

        print(f"\n{args.connections} connections, {args.seconds:g} s, medians of {args.repeat} run(s), "
              f"{os.cpu_count()} CPUs, client {'wrk' if wrk else 'python asyncio'}, hub: {args.workers} web "
              f"worker(s), access log {'on' if args.access_log else 'off'}\n")
        print(f"  {'target':32s} {'req/s':>9s} {'p50 ms':>8s} {'p99 ms':>8s} {'errors':>7s} {'bytes':>6s}")
        for key, label in TARGETS.items():
            r = med[key]
            print(f"  ({key}) {label:28s} {r['rps']:9.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {r['errors']:7d} "
                  f"{size[key]:6d}")
        rounds = lambda k: ", ".join(f"{x:.0%}" for x in per_round[k])  # noqa: E731
        print(f"\n  (a)/(s) = {ratios['app_over_static']:.1%} (rounds: {rounds('a_over_s')})  target >= "
              f"{TARGET_APP:.0%} with p99 < {TARGET_APP_P99_MS:g} ms (p99 {med['a']['p99_ms']:.1f} ms)  "
              f"{'OK' if ok_app else 'MISSED'}")
        print(f"  (c)/(s) = {ratios['cached_over_static']:.1%} (rounds: {rounds('c_over_s')})  target >= "
              f"{TARGET_CACHED:.0%}  {'OK' if ok_cached else 'MISSED'}")
        print(f"  other processes used {100 * others:.0f}% of the machine during the runs"
              + ("  << busy machine, figures are noisy" if others > 0.05 else ""))
        if not wrk:
            print("  (Python client: it saturates before nginx does, so (s) and the ratios are understated)")

        now = dt.datetime.now()
        result = {
            "date": now.isoformat(timespec="seconds"),
            "host": {"cpus": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version(),
                     "nginx": command_output(["nginx", "-v"]),
                     "client": "wrk" if wrk else "python-asyncio"},
            "git": git_state("media_hub", "deploy"),
            "hub": {"web_workers": args.workers, "access_log": args.access_log,
                    "source": str(args.hub_src or ROOT)},
            "playlist": {"path": path, "bytes": len(body)},
            "connections": args.connections, "seconds": args.seconds, "repeat": args.repeat,
            "others_cpu_share": others,
            "targets": {k: {"label": TARGETS[k], "url": urls[k], "median": med[k], "runs": runs[k]} for k in TARGETS},
            "ratios": ratios,
            "goals": {"app_over_static_min": TARGET_APP, "app_p99_ms_max": TARGET_APP_P99_MS, "app_ok": ok_app,
                      "cached_over_static_min": TARGET_CACHED, "cached_ok": ok_cached},
        }
        write_results("channel", result, now)
    finally:
        stop(nginx, signal.SIGQUIT)
        stop(hub)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
