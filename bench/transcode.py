"""Benchmark: the hub's HLS ladder transcode against the raw ffmpeg limit and per-rendition jobs.

One run, one input: a synthetic 1080p30 clip (``testsrc2`` + ``sine``, H.264 ~7 Mbit/s,
AAC 128 kbit/s, made once with ffmpeg lavfi in a temp dir) is transcoded three ways:

(a) hub    what the Celery task runs: ``workers.media.probe(src)`` then
           ``workers.media.transcode(src, probe, out)`` (one ffmpeg process for the whole
           ladder, progress parsing, playlist measuring, master playlist, poster), in a
           fresh Python process that has already imported ``workers.media``
           (storage upload not included);
(b) raw    the limit: the argv of ``ladder_command(src, probe, plan_ladder(probe), out)``
           run directly (stdout to /dev/null): the same ffmpeg work with none of our
           overhead;
(c) peers  one ffmpeg process per rendition, one after the other, as a queue of
           per-rendition jobs would run them on a small box: ``ladder_command`` with a
           single rung each, so every process decodes the whole source and encodes one
           rung with exactly the same filters, bitrates, x264 preset/profile/level, key
           frames and HLS segmenting.

Variants run interleaved (a, b, c, a, b, c, ...) ``--repeat`` times; the medians are
reported.  Wall time of (a) is measured inside the worker process around probe +
transcode; (b) and (c) around the ffmpeg process(es).  Memory: "tree" is the peak of the
summed RSS of the process and its descendants, polled from /proc every 200 ms (for (a):
the Python worker plus ffmpeg; (b), (c): ffmpeg alone); "max1" is the largest single
process's ``ru_maxrss`` from ``wait4``.  Figures are printed and written to
``bench/results/transcode-<date>.json``.

Run from the project root (takes several minutes)::

    .venv/bin/python bench/transcode.py [--repeat 2] [--duration 60] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workers import media  # noqa: E402

from machine import busy_seconds, command_output, git_state, wait_idle, write_results

TARGET_HUB_OVER_RAW = 1.05  # (a)/(b) at most
TARGET_PEERS_OVER_HUB = 1.3  # (c)/(a) at least
PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024


def make_source(path: Path, duration: float) -> None:
    """60 s-ish 1080p30 H.264 High ~7 Mbit/s + AAC stereo 48 kHz, like a camera/edit export."""
    subprocess.run([
        "ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=s=1920x1080:r=30:d={duration}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:d={duration}",
        "-c:v", "libx264", "-preset", "fast", "-profile:v", "high", "-pix_fmt", "yuv420p",
        "-b:v", "7M", "-maxrate", "8M", "-bufsize", "14M", "-g", "60",
        "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-movflags", "+faststart", str(path),
    ], check=True)


def _tree_rss(root: int, include_root: bool) -> int:
    """Summed RSS in bytes of ``root``'s descendants (and of ``root`` if asked)."""
    parents, pids = {}, set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    frontier = [root]
    while frontier:
        pid = frontier.pop()
        pids.add(pid)
        frontier += [c for c, p in parents.items() if p == pid and c not in pids]
    total = 0
    for pid in pids if include_root else pids - {root}:
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            pass
    return total


def run_measured(argv: list[str], include_root: bool, stdout=subprocess.DEVNULL) -> dict:
    """Run argv; wall time, polled peak tree RSS, largest single-process ru_maxrss."""
    peak, done = [0], threading.Event()
    busy0, t0 = busy_seconds(), time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout, cwd=ROOT)

    def poll():
        while not done.wait(0.2):
            peak[0] = max(peak[0], _tree_rss(proc.pid, include_root))

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall, busy = time.perf_counter() - t0, busy_seconds() - busy0
    done.set()
    poller.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    out = proc.stdout.read() if proc.stdout else b""
    if proc.returncode:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(argv)}")
    # ru_maxrss: KiB on Linux, max over the process and its reaped descendants.
    cpu = usage.ru_utime + usage.ru_stime
    return {"wall": wall, "cpu": cpu, "others_cpu": max(busy - cpu, 0.0),
            "tree_mib": peak[0] / MIB, "max1_mib": usage.ru_maxrss / 1024, "stdout": out}


def worker_main(src: str, out: str) -> None:
    """Child process of variant (a): exactly what the Celery task does with the media."""
    from workers.media import hls

    run_ladder, ladder = hls._run_with_progress, {}

    def timed(*a, **kw):  # instrumentation only: time the ladder ffmpeg inside transcode()
        t = time.perf_counter()
        try:
            return run_ladder(*a, **kw)
        finally:
            ladder["wall"] = time.perf_counter() - t

    hls._run_with_progress = timed
    t0 = time.perf_counter()
    probe = media.probe(src)
    t1 = time.perf_counter()
    media.transcode(src, probe, out, on_progress=lambda _f: None)
    t2 = time.perf_counter()
    print(json.dumps({"wall": t2 - t0, "probe": t1 - t0, "ladder_ffmpeg": ladder["wall"],
                      "after_ffmpeg": t2 - t1 - ladder["wall"]}))


def variant_hub(src: Path, out: Path) -> dict:
    r = run_measured([sys.executable, __file__, "--worker", str(src), str(out)],
                     include_root=True, stdout=subprocess.PIPE)
    r["wall_process"] = r["wall"]  # including interpreter start and imports
    r.update(json.loads(r.pop("stdout")))
    return r


def _prepare(out: Path, rungs) -> None:
    shutil.rmtree(out, ignore_errors=True)
    for rung in rungs:
        (out / rung.name).mkdir(parents=True)


def variant_raw(src: Path, probe, rungs, out: Path) -> dict:
    _prepare(out, rungs)
    r = run_measured(media.ladder_command(src, probe, rungs, out), include_root=True)
    r.pop("stdout")
    return r


def variant_peers(src: Path, probe, rungs, out: Path) -> dict:
    _prepare(out, rungs)
    runs = [run_measured(media.ladder_command(src, probe, [rung], out), include_root=True)
            for rung in rungs]
    return {"wall": sum(r["wall"] for r in runs), "cpu": sum(r["cpu"] for r in runs),
            "others_cpu": sum(r["others_cpu"] for r in runs),
            "tree_mib": max(r["tree_mib"] for r in runs),
            "max1_mib": max(r["max1_mib"] for r in runs),
            "per_rung_wall": {rung.name: r["wall"] for rung, r in zip(rungs, runs)}}


def output_summary(out: Path, rungs) -> dict:
    """Segments and bytes per rung, to check the variants produced the same ladder."""
    summary = {}
    for rung in rungs:
        segs = sorted((out / rung.name).glob("seg_*.ts"))
        if not (out / rung.name / "index.m3u8").is_file() or not segs:
            raise SystemExit(f"{out}: rung {rung.name} missing")
        summary[rung.name] = {"segments": len(segs), "bytes": sum(s.stat().st_size for s in segs)}
    return summary



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=2, help="runs of each variant (default 2)")
    ap.add_argument("--duration", type=float, default=60, help="source seconds (default 60)")
    ap.add_argument("--wait-idle", type=float, default=300, metavar="S",
                    help="before each run, wait up to S s for the machine to go quiet "
                         "(default 300, 0: don't)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir with all outputs")
    ap.add_argument("--worker", nargs=2, metavar=("SRC", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker_main(*args.worker)

    tmp = Path(tempfile.mkdtemp(prefix="bench-transcode-"))
    try:
        src = tmp / "source.mp4"
        t0 = time.perf_counter()
        make_source(src, args.duration)
        print(f"source: {src.stat().st_size / MIB:.1f} MiB, "
              f"{src.stat().st_size * 8 / args.duration / 1e6:.2f} Mbit/s, "
              f"made in {time.perf_counter() - t0:.1f} s", flush=True)
        probe = media.probe(src)
        rungs = media.plan_ladder(probe)
        print("rungs: " + ", ".join(f"{r.name} {r.width}x{r.height} {r.video_bitrate // 1000}k "
                                    f"L{r.h264_level}" for r in rungs), flush=True)

        variants = {
            "a": ("hub: probe + transcode", lambda out: variant_hub(src, out)),
            "b": ("raw: ladder_command argv", lambda out: variant_raw(src, probe, rungs, out)),
            "c": ("peers: 1 ffmpeg per rung, sequential",
                  lambda out: variant_peers(src, probe, rungs, out)),
        }
        runs: dict[str, list[dict]] = {k: [] for k in variants}
        outputs = {}
        for i in range(args.repeat):
            for key, (label, fn) in variants.items():
                out = tmp / f"{key}{i}"
                waited = wait_idle(args.wait_idle) if args.wait_idle > 0 else 0.0
                if waited > 3:
                    print(f"  (waited {waited:.0f} s for other processes to finish)", flush=True)
                r = fn(out)
                outputs[key] = output_summary(out, rungs)
                if not args.keep:
                    shutil.rmtree(out)
                runs[key].append(r)
                print(f"  run {i + 1}/{args.repeat} ({key}) {label}: {r['wall']:.1f} s, "
                      f"cpu {r['cpu']:.1f} s, others {r['others_cpu']:.1f} s, tree {r['tree_mib']:.0f} MiB" + (
                          f" (probe {r['probe']:.1f} + ladder ffmpeg {r['ladder_ffmpeg']:.1f}"
                          f" + after {r['after_ffmpeg']:.1f})" if "probe" in r else ""), flush=True)

        metrics = ("wall", "cpu", "others_cpu", "tree_mib", "max1_mib")
        med = {k: {m: statistics.median(r[m] for r in rs) for m in metrics}
               for k, rs in runs.items()}
        med["a"].update({m: statistics.median(r[m] for r in runs["a"])
                         for m in ("probe", "ladder_ffmpeg", "after_ffmpeg")})
        (a, b, c), (ca, cb, cc) = ([med[k][m] for k in "abc"] for m in ("wall", "cpu"))
        ratios = {"a_over_b": a / b, "c_over_a": c / a, "realtime_x": args.duration / a,
                  "cpu_a_over_b": ca / cb, "cpu_c_over_a": cc / ca}
        ok_ab = ratios["a_over_b"] <= TARGET_HUB_OVER_RAW
        ok_ca = ratios["c_over_a"] >= TARGET_PEERS_OVER_HUB
        others = sum(r["others_cpu"] for rs in runs.values() for r in rs)
        ours = sum(r["wall"] for rs in runs.values() for r in rs) * (os.cpu_count() or 1)

        print(f"\nmedian of {args.repeat}, {args.duration:g} s 1080p30 source, "
              f"{os.cpu_count()} CPUs")
        for key, (label, _) in variants.items():
            m = med[key]
            print(f"  ({key}) {label:38s} wall {m['wall']:6.1f} s  cpu {m['cpu']:6.1f} s  "
                  f"peak RSS tree {m['tree_mib']:4.0f} MiB (largest process {m['max1_mib']:4.0f})")
        m = med["a"]
        print(f"  (a) = probe {m['probe']:.1f} s + ladder ffmpeg {m['ladder_ffmpeg']:.1f} s"
              f" + measure/master/poster {m['after_ffmpeg']:.1f} s")
        print(f"  (a)/(b) = {ratios['a_over_b']:.3f}  target <= {TARGET_HUB_OVER_RAW}  "
              f"{'OK' if ok_ab else 'MISSED'}   (cpu {ratios['cpu_a_over_b']:.3f})")
        print(f"  (c)/(a) = {ratios['c_over_a']:.3f}  target >= {TARGET_PEERS_OVER_HUB}   "
              f"{'OK' if ok_ca else 'MISSED'}   (cpu {ratios['cpu_c_over_a']:.3f})")
        print(f"  ladder speed: {ratios['realtime_x']:.2f}x real time (source seconds / wall of (a))")
        print(f"  peak memory of the worker during (a): {m['tree_mib']:.0f} MiB "
              f"(Python worker + its ffmpeg children, summed RSS)")
        print(f"  other processes used {others:.0f} CPU-s = {100 * others / ours:.0f}% of the "
              f"machine during the runs" + ("  << busy machine, wall figures are noisy"
                                            if others > 0.05 * ours else ""))

        now = dt.datetime.now()
        result = {
            "date": now.isoformat(timespec="seconds"),
            "host": {"cpus": os.cpu_count(), "machine": platform.machine(),
                     "python": platform.python_version(),
                     "ffmpeg": command_output(["ffmpeg", "-version"]).split("\n")[0]},
            "git": git_state("workers"),
            "source": {"duration": args.duration, "size": "1920x1080", "fps": 30,
                       "bytes": src.stat().st_size},
            "rungs": [{"name": r.name, "width": r.width, "height": r.height,
                       "video_bitrate": r.video_bitrate, "level": r.h264_level} for r in rungs],
            "repeat": args.repeat,
            "others_cpu_share": others / ours,
            "variants": {k: {"label": variants[k][0], "median": med[k], "runs": runs[k],
                             "output": outputs[k]} for k in variants},
            "ratios": ratios,
            "targets": {"a_over_b_max": TARGET_HUB_OVER_RAW, "a_over_b_ok": ok_ab,
                        "c_over_a_min": TARGET_PEERS_OVER_HUB, "c_over_a_ok": ok_ca},
        }
        write_results("transcode", result, now)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
