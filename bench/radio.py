"""Benchmark: commune-radio MP3s (workers.broadcast) against the raw ffmpeg two-pass limit.

Input: one 30-minute programme (default), like an upload from a district studio: espeak-ng
Vietnamese speech alternating with a two-tone chime, AAC-LC stereo 48 kHz in M4A, made
once with ffmpeg in a temp dir.  It is turned into a broadcast MP3 (EBU R128 -23 LUFS,
44.1 kHz mono CBR 128 kbit/s) two ways:

(a) hub  ``workers.broadcast.make_broadcast_mp3(src, out)`` in this process: ffprobe, the
         loudnorm measuring pass, the loudnorm + LAME pass, the ebur128 (true peak) check
         of the finished MP3 and mutagen reading its length (LAME's level calibration is
         cached per process and done once before timing);
(b) raw  the limit: the ffmpeg commands of (a)'s measuring and encoding passes, recorded
         during a run of (a) and replayed directly (stdout/stderr to /dev/null) - the same
         decode, resample, downmix, loudnorm and LAME work with none of our overhead and
         no verification.

For reference, (c) "classic pass 1" times the usual first pass
``-af loudnorm=print_format=json -f null -`` (loudnorm's dynamic mode at 192 kHz) on the
same input, against (a)'s measuring pass (linear-mode loudnorm meter at 192 kHz).

Variants run interleaved ``--repeat`` times; medians are reported as wall seconds and as
multiples of real time (input duration / wall time), and as CPU seconds (user + system of
this process and its ffmpeg children), which a busy shared machine disturbs far less.
Run from the project root::

    .venv/bin/python bench/radio.py [--minutes 30] [--repeat 3] [--keep]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workers import broadcast  # noqa: E402

FFMPEG = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y"]
TEXT = ("Kính thưa quý vị và các bạn. Sở Tư pháp trân trọng giới thiệu chương trình phổ biến, "
        "giáo dục pháp luật. Luật Trật tự, an toàn giao thông đường bộ số 36/2024/QH15 quy định "
        "quy tắc, phương tiện, người tham gia giao thông và trách nhiệm của cơ quan, tổ chức, "
        "cá nhân có liên quan.")


def make_source(tmp: Path, minutes: float) -> Path:
    """espeak speech (~20 s) + 3 s chime, looped to ``minutes``, AAC stereo 48 kHz M4A."""
    speech = tmp / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "vi", "-s", "160", "-w", str(speech), TEXT], check=True)
    unit = tmp / "unit.wav"
    subprocess.run(FFMPEG + [
        "-i", str(speech), "-f", "lavfi", "-i", "sine=f=880:d=1.5:sample_rate=22050",
        "-f", "lavfi", "-i", "sine=f=660:d=1.5:sample_rate=22050",
        "-filter_complex", "[1]volume=-6dB[a];[2]volume=-6dB[b];[0][a][b]concat=n=3:v=0:a=1",
        str(unit)], check=True)
    src = tmp / "programme.m4a"
    subprocess.run(FFMPEG + [
        "-stream_loop", "-1", "-i", str(unit), "-t", str(minutes * 60),
        "-af", "aresample=48000,aformat=channel_layouts=stereo",
        "-c:a", "aac", "-b:a", "128k", str(src)], check=True)
    return src


def cpu() -> float:
    """User + system CPU seconds of this process and its waited-for children."""
    usage = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


def run_hub(src: Path, out: Path):
    """(wall s, CPU s) of make_broadcast_mp3, the ffmpeg commands it ran with their
    wall times, and its result."""
    calls: list[tuple[list[str], float]] = []
    original = broadcast._run

    def recording(argv, on_seconds=None):
        t = time.perf_counter()
        try:
            return original(argv, on_seconds)
        finally:
            calls.append((list(argv), time.perf_counter() - t))

    broadcast._run = recording
    try:
        t, c = time.perf_counter(), cpu()
        result = broadcast.make_broadcast_mp3(src, out)
        wall, used = time.perf_counter() - t, cpu() - c
    finally:
        broadcast._run = original
    return wall, used, calls, result


def run_raw(argvs: list[list[str]]) -> tuple[float, float]:
    t, c = time.perf_counter(), cpu()
    for argv in argvs:
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t, cpu() - c


def run_classic_pass1(src: Path) -> float:
    t = time.perf_counter()
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-i", str(src), "-af",
                    "aresample=44100,aformat=channel_layouts=mono,"
                    "loudnorm=I=-23:TP=-1.5:LRA=11:print_format=json",
                    "-f", "null", "-"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench_radio_"))
    try:
        t = time.perf_counter()
        src = make_source(tmp, args.minutes)
        print(f"source: {src.name}, {args.minutes:g} min AAC stereo 48 kHz, "
              f"made in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        broadcast.encoder_gain(broadcast.Mp3Profile())
        print(f"LAME level calibration (once per process): {time.perf_counter() - t:.2f} s")
        duration = args.minutes * 60

        hub, raw, hub_cpu, raw_cpu, classic, passes = [], [], [], [], [], []
        for i in range(args.repeat):
            wall, used, calls, result = run_hub(src, tmp / "hub.mp3")
            hub.append(wall)
            hub_cpu.append(used)
            passes.append([seconds for _, seconds in calls])
            ffmpeg_passes = [argv for argv, _ in calls if "-progress" in argv][:-1]  # not the check
            wall, used = run_raw(ffmpeg_passes)
            raw.append(wall)
            raw_cpu.append(used)
            classic.append(run_classic_pass1(src))
            print(f"  run {i + 1}: hub {hub[-1]:.2f} s (CPU {hub_cpu[-1]:.2f} s), "
                  f"raw {raw[-1]:.2f} s (CPU {raw_cpu[-1]:.2f} s), "
                  f"classic pass 1 {classic[-1]:.2f} s")

        h, r, c, hc, rc = (statistics.median(x) for x in (hub, raw, classic, hub_cpu, raw_cpu))
        p1, p2, check = (statistics.median(p[k] for p in passes) for k in (0, -2, -1))
        print(f"\nresult: {result.normalization}, I {result.loudness.integrated} LUFS, "
              f"TP {result.loudness.true_peak} dBTP, LRA {result.loudness.lra} LU "
              f"(input I {result.input_loudness.integrated} LUFS), "
              f"{result.size / 1e6:.1f} MB, {result.duration:.1f} s")
        for name, wall in (("hub  (probe + 2 passes + ebur128 check)", h),
                           ("raw  (measure pass + loudnorm/LAME pass)", r)):
            print(f"{name}: {wall:6.2f} s = {duration / wall:6.1f}x real time")
        print(f"hub / raw: {h / r:.3f} wall, {hc / rc:.3f} CPU ({hc:.2f} s / {rc:.2f} s)")
        print(f"hub passes (median wall s): measure {p1:.2f}, encode {p2:.2f}, "
              f"ebur128 check {check:.2f}")
        print(f"classic dynamic-mode pass 1: {c:.2f} s vs our linear-mode meter {p1:.2f} s")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
