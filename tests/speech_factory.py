"""Real Vietnamese speech for the subtitle tests, made on demand with espeak-ng and ffmpeg.

Nothing binary is committed.  Sentences are spoken by ``espeak-ng -v vi`` (a robotic
voice: Whisper base hears it far worse than a human presenter, so recognition thresholds
in the tests are set from measurements on this voice), joined with exact silences in
numpy, and converted by ffmpeg to the formats under test.  :class:`Built` records where
speech is, so tests can check timings against it.
"""

from __future__ import annotations

import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 22_050  # espeak-ng output rate
FFMPEG = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y"]

#: Vietnamese legal sentences, and for each its key words (what a viewer must read right).
LEGAL_SENTENCES = [
    ("Theo Luật Trật tự, an toàn giao thông đường bộ năm 2024, người điều khiển xe mô tô "
     "phải đội mũ bảo hiểm.",
     "luật trật tự an toàn giao thông đường bộ điều khiển xe mô tô đội mũ bảo hiểm"),
    ("Người điều khiển phương tiện mà trong máu hoặc hơi thở có nồng độ cồn sẽ bị xử phạt "
     "vi phạm hành chính.",
     "điều khiển phương tiện máu hơi thở nồng độ cồn xử phạt vi phạm hành chính"),
    ("Sở Tư pháp phối hợp với Ủy ban nhân dân xã tổ chức hòa giải ở cơ sở cho người dân.",
     "sở tư pháp phối hợp ủy ban nhân dân xã tổ chức hòa giải cơ sở người dân"),
    ("Bộ luật Hình sự quy định hành vi lừa đảo chiếm đoạt tài sản có thể bị phạt tù.",
     "bộ luật hình sự quy định hành vi lừa đảo chiếm đoạt tài sản phạt tù"),
    ("Tòa án nhân dân và Viện kiểm sát nhân dân bảo vệ công lý và quyền con người.",
     "tòa án nhân dân viện kiểm sát bảo vệ công lý quyền con người"),
    ("Quốc hội đã thông qua luật, Chính phủ ban hành nghị định hướng dẫn thi hành.",
     "quốc hội thông qua luật chính phủ ban hành nghị định hướng dẫn thi hành"),
]
#: What the hub would pass as ``context`` (the video's title and description).
LEGAL_CONTEXT = ("Phổ biến pháp luật: Luật Trật tự, an toàn giao thông đường bộ, nồng độ cồn, "
                 "xử phạt vi phạm hành chính, hòa giải ở cơ sở, Bộ luật Hình sự, lừa đảo "
                 "chiếm đoạt tài sản, Tòa án nhân dân, Viện kiểm sát nhân dân, Quốc hội, "
                 "Chính phủ, Nghị định")


@dataclass
class Built:
    path: Path
    duration: float  # seconds
    speech: list[tuple[float, float]]  # (start, end) of each spoken sentence, seconds


def say(text: str, rate: int = 130, voice: str = "vi") -> np.ndarray:
    """``text`` spoken by espeak-ng as int16 samples at 22.05 kHz, edge silence trimmed."""
    raw = subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "--stdout", text],
                         check=True, capture_output=True, timeout=60).stdout
    samples = np.frombuffer(raw[44:], dtype=np.int16)  # canonical 44-byte WAV header
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 300)
    return samples[loud[0]:loud[-1] + 1] if loud.size else samples[:0]


def write_wav(path, samples: np.ndarray, rate: int = RATE) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype(np.int16).tobytes())
    return Path(path)


def read_wav(path) -> np.ndarray:
    """The int16 samples of a mono 16-bit WAV."""
    with wave.open(str(path), "rb") as src:
        return np.frombuffer(src.readframes(src.getnframes()), dtype=np.int16)


def build(path, pieces: list[str | float], rate: int = 130) -> Built:
    """A WAV of ``pieces`` in order: a str is spoken, a float is that many seconds of
    silence.  Returns where the speech is."""
    parts, speech, t = [], [], 0
    for piece in pieces:
        if isinstance(piece, str):
            samples = say(piece, rate)
            speech.append((t / RATE, (t + len(samples)) / RATE))
        else:
            samples = np.zeros(round(piece * RATE), np.int16)
        parts.append(samples)
        t += len(samples)
    write_wav(path, np.concatenate(parts))
    return Built(Path(path), t / RATE, speech)


def convert(source, target, *args: str) -> Path:
    """ffmpeg ``source`` -> ``target`` with output options ``args``."""
    subprocess.run(FFMPEG + ["-i", str(source), *args, str(target)], check=True,
                   capture_output=True, timeout=120)
    return Path(target)


def tones(path, seconds: float = 30.0) -> Path:
    """Music-like audio: a sequence of chords (three sines) with a beat, no voice."""
    expr = ("0.25*sin(2*PI*t*(220+110*floor(mod(t,4))))"
            "+0.2*sin(2*PI*t*(330+55*floor(mod(t*2,3))))"
            "+0.15*sin(2*PI*t*440)*lt(mod(t,0.5),0.25)")
    expr = expr.replace(",", "\\,")  # commas separate filters in a filtergraph
    subprocess.run(FFMPEG + ["-f", "lavfi", "-i", f"aevalsrc={expr}:s=44100:d={seconds}",
                             "-ac", "2", str(path)], check=True, capture_output=True, timeout=120)
    return Path(path)


def silence(path, seconds: float = 60.0) -> Path:
    subprocess.run(FFMPEG + ["-f", "lavfi", "-i", f"anullsrc=r=48000:cl=stereo:d={seconds}",
                             str(path)], check=True, capture_output=True, timeout=120)
    return Path(path)
