"""Commune radio: a programme's audio as a broadcast-ready MP3 with ID3v2.3 tags.

A plain library over ffmpeg and mutagen working on local paths (no web app, task
queue, database or storage).  Every ffmpeg input is opened as ``file:<absolute
path>`` with ``protocol_whitelist=file`` and the demuxer whitelist of
:data:`workers.media.INPUT_OPTIONS`; ffmpeg runs without a shell and no user
string ever reaches an ffmpeg option.

Loudness (EBU R128, measured per ITU-R BS.1770-4) in two passes of ffmpeg's
``loudnorm`` filter per part (optional intro jingle, programme, optional outro jingle):

1. measure: the part is resampled to the profile's rate and downmixed to its channel
   count *first* (we measure what we output), then ``loudnorm print_format=json``
   reads integrated loudness, LRA and gate threshold, and the peak of a 192 kHz copy
   gives the true peak (loudnorm's own peak is a sample peak);
2. apply: the same chain, then ``loudnorm linear=true`` with those measurements, which
   is a pure gain of ``target - measured`` dB only if ``measured_TP + gain <= TP`` and
   ``measured_LRA <= LRA``; otherwise ffmpeg silently switches to its *dynamic* mode
   (a look-ahead AGC with a limiter).  We evaluate that condition ourselves: when only
   the peaks are in the way (a peaky source raised a lot, a hard-clipped one), the part
   first gets the gain and a look-ahead limiter (``volume`` + ``alimiter``) a little
   below the true-peak aim, is measured again and then normalised linearly ("limited").
   A part whose LRA exceeds the target's is left to loudnorm's dynamic mode, which
   compresses it ("dynamic").  loudnorm's output is resampled to the profile's rate
   (its dynamic mode outputs 192 kHz) before LAME.

Each part is normalised on its own to the same target (EBU R128 treats short-form
items such as jingles as programmes of their own), so the joins do not jump in level
and the whole is on target too; the parts are joined with the ``concat`` filter (not
the concat demuxer) and encoded once.

A mono file is measured as it is, one channel with weight 1.0, as every BS.1770 meter
run on the file reads it (ffmpeg ``ebur128``, loudgain, the meters commune staff use):
the delivered file reads the target on an independent meter.  (Measuring mono "as dual
mono", +3 LU for two loudspeakers fed the same signal, made files that such meters read
3 LU under the target.)

The encoded file is what must meet the target, so loudnorm aims :data:`TP_MARGIN`
below the true-peak limit (MP3 coding adds a fraction of a dB of true peak) and
compensates LAME's own level change (:func:`encoder_gain`: -0.45 dB at 128 kbit/s).
The finished MP3 is measured again with the separate ``ebur128`` meter (``peak=true``)
and that measurement is returned.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import os
import re
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple

import ffmpeg
from mutagen.id3 import APIC, COMM, ID3, TALB, TCON, TDRC, TIT2, TLAN, TPE1, TPUB, ID3NoHeaderError
from mutagen.mp3 import MP3

from workers.media.model import INPUT_OPTIONS, input_url

#: A part whose integrated loudness (LUFS) is below this is flagged, not amplified.
SILENCE_FLOOR = -50.0
#: dB kept between loudnorm's true-peak aim and the limit, for MP3 encoding overshoot.
TP_MARGIN = 0.5
#: dB between the pre-limiter's (sample-peak) ceiling and loudnorm's true-peak aim:
#: room for inter-sample peaks and the small make-up gain after limiting.
LIMITER_HEADROOM = 1.0
#: How far (LU, dB) the finished file may be from the target and still count as on target.
TOLERANCE = 1.0

_FFMPEG = ("ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-v", "info")
_MPEG1_RATES = (32000, 44100, 48000)
_MPEG1_BITRATES = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_LABELS = {"intro": "Nhạc hiệu mở đầu", "programme": "Chương trình", "outro": "Nhạc hiệu kết thúc"}


@dataclass(frozen=True)
class LoudnessTarget:
    """Where to put a programme: ``integrated`` in LUFS, ``true_peak`` (maximum) in dBTP,
    ``lra`` (maximum loudness range) in LU.

    ``lra`` defaults to 11 LU: edited speech usually spans 4-10 LU, so loudnorm's own
    default of 7 LU would push ordinary talk programmes into its dynamic mode (an AGC
    with audible pumping); 11 LU keeps them a pure gain change and only compresses
    programmes whose quiet passages would be lost on outdoor commune loudspeakers.
    """

    integrated: float = -23.0
    true_peak: float = -1.0
    lra: float = 11.0

    def __post_init__(self):
        if not (-70 <= self.integrated <= -5 and -8.5 <= self.true_peak <= 0
                and 1 <= self.lra <= 50):
            raise ValueError(f"loudness target out of loudnorm's range: {self}")


#: EBU R128 broadcast; podcast (-16 LUFS, as Apple/AES TD1004 speech); streaming (-14 LUFS).
PRESETS = {
    "ebu_r128": LoudnessTarget(-23.0, -1.0),
    "podcast": LoudnessTarget(-16.0, -1.0),
    "streaming": LoudnessTarget(-14.0, -1.0),
}


@dataclass(frozen=True)
class Mp3Profile:
    """MPEG-1 Layer III, constant bit rate: ``sample_rate`` in Hz (32000, 44100 or 48000),
    ``channels`` 1 (mono) or 2, ``bitrate`` in bit/s (a Layer III rate, 32k-320k)."""

    sample_rate: int = 44100
    channels: int = 1
    bitrate: int = 128_000

    def __post_init__(self):
        if (self.sample_rate not in _MPEG1_RATES or self.channels not in (1, 2)
                or self.bitrate not in [k * 1000 for k in _MPEG1_BITRATES]):
            raise ValueError(f"not an MPEG-1 Layer III CBR profile: {self}")


@dataclass(frozen=True)
class Loudness:
    """A BS.1770 / EBU R128 measurement: ``integrated`` loudness in LUFS (-inf when all
    is gated out), loudness range ``lra`` in LU, ``true_peak`` in dBTP, ``threshold``
    (the relative gate of the integrated measurement) in LUFS.  Mono is measured as one
    channel (as standard meters read the file)."""

    integrated: float
    lra: float
    true_peak: float
    threshold: float


@dataclass(frozen=True)
class BroadcastResult:
    """A finished MP3: ``path`` absolute, ``duration`` in seconds, ``size`` in bytes,
    ``loudness`` measured on the finished file (ebur128), ``input_loudness`` of the
    programme after resampling/downmix (loudnorm pass 1), ``normalization`` of the
    programme: "linear" (pure gain), "limited" (gain + look-ahead limiter, then linear)
    or "dynamic" (loudnorm's AGC, for a loudness range above the target's), and
    ``on_target``: integrated within ±:data:`TOLERANCE` LU of the target and true peak
    at or below its limit."""

    path: str
    duration: float
    size: int
    loudness: Loudness
    input_loudness: Loudness
    normalization: str
    on_target: bool


class BroadcastError(Exception):
    """The broadcast audio could not be made.  ``code``: "not_media", "no_audio",
    "silent" or "ffmpeg_failed"; ``reason``: a Vietnamese sentence for editors;
    ``detail``: ffmpeg's stderr tail, for logs."""

    def __init__(self, code: str, reason: str, detail: str = ""):
        super().__init__(f"{code}: {reason}\n{detail}".strip())
        self.code, self.reason, self.detail = code, reason, detail


class NoAudio(BroadcastError):
    """The item (or a jingle) has no audio stream: it has no broadcast audio.  ``part``:
    "intro", "programme" or "outro"."""

    def __init__(self, part: str = "programme"):
        super().__init__("no_audio", f"{_LABELS[part]} không có luồng âm thanh nên không "
                         "có bản phát thanh.")
        self.part = part


class SilentSource(BroadcastError):
    """A part is silent or nearly so (integrated loudness below the silence floor):
    flagged instead of amplifying its noise.  ``measured``: its :class:`Loudness`."""

    def __init__(self, measured: Loudness, floor: float, part: str = "programme"):
        level = (f"{measured.integrated:.1f} LUFS".replace(".", ",")
                 if math.isfinite(measured.integrated) else "không đo được")
        super().__init__("silent", f"{_LABELS[part]} gần như không có tiếng (độ to tích hợp "
                         f"{level}, dưới ngưỡng {floor:.0f} LUFS). Hệ thống không khuếch đại để "
                         "tránh biến tiếng ồn nền thành âm thanh phát thanh; vui lòng kiểm tra "
                         "bản ghi âm.")
        self.measured, self.part = measured, part


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# --- running ffmpeg --------------------------------------------------------------------

_FAILED = "Tạo bản phát thanh MP3 thất bại: ffmpeg báo lỗi khi xử lý âm thanh."


def _run(argv: list[str], on_seconds: Callable[[float], None] | None = None) -> str:
    """Run ffmpeg (no shell); pass ``out_time`` seconds of ``-progress pipe:1`` to
    ``on_seconds``; return stderr.  Raises :class:`BroadcastError`."""
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err,
                                    stdin=subprocess.DEVNULL)
        except OSError as e:
            raise BroadcastError("ffmpeg_failed", _FAILED, str(e)) from None
        with proc:
            try:
                for line in proc.stdout:
                    key, _, value = line.decode("ascii", "replace").strip().partition("=")
                    if key == "out_time_us" and value.isdigit() and on_seconds:
                        on_seconds(int(value) / 1e6)
            except BaseException:  # e.g. the task's time limit: do not leave ffmpeg running
                proc.kill()
                raise
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise BroadcastError("ffmpeg_failed", _FAILED, stderr[-4000:])
    return stderr


def _input(path) -> list[str]:
    """``-i file:<abs path>`` with the hub's protocol and demuxer whitelists."""
    opts = [x for k, v in INPUT_OPTIONS.items() for x in (f"-{k}", v)]
    return opts + ["-i", input_url(path)]


def _chain(*filters: tuple[str, dict]) -> str:
    """``name=k=v:k=v,...`` from (name, options); values are our own numbers/keywords."""
    return ",".join(name + ("=" + ":".join(f"{k}={v}" for k, v in opts.items()) if opts else "")
                    for name, opts in filters)


def _audio_stream(path, part: str = "programme") -> tuple[int, float]:
    """(index of the default audio stream, duration in seconds or 0.0 if unknown)."""
    try:
        info = ffmpeg.probe(input_url(path), v="error", **INPUT_OPTIONS)
    except ffmpeg.Error as e:
        raise BroadcastError("not_media", f"{_LABELS[part]}: không đọc được tệp âm thanh/video "
                             "nguồn.", e.stderr.decode("utf-8", "replace")[-2000:]) from None
    audio = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if not audio:
        raise NoAudio(part)
    stream = next((s for s in audio if (s.get("disposition") or {}).get("default")), audio[0])
    for value in (stream.get("duration"), (info.get("format") or {}).get("duration")):
        try:
            return int(stream["index"]), float(value)
        except (TypeError, ValueError):
            continue
    return int(stream["index"]), 0.0


def _num(text: str) -> float:
    """A float from loudnorm/ebur128 output ("-inf", "-70.00"...)."""
    return float(text.strip().strip('"'))


# --- measuring ------------------------------------------------------------------------

def measure(path) -> Loudness:
    """Measure a file's default audio stream with ffmpeg's ``ebur128`` meter (ITU-R
    BS.1770-4, EBU R128 / Tech 3341-3342): integrated loudness and its gate threshold
    in LUFS, LRA in LU, true peak in dBTP (``peak=true``: 4x oversampled), to 0.1;
    mono as one channel, like any meter run on the file.  Raises :class:`NoAudio`, :class:`BroadcastError`."""
    return _measure(path)


def _measure(path, on_seconds=None) -> Loudness:
    index, _ = _audio_stream(path)
    meter = _chain(("ebur128", {"peak": "true"}))
    stderr = _run([*_FFMPEG, "-progress", "pipe:1", *_input(path), "-filter_complex",
                   f"[0:{index}]{meter}[m]", "-map", "[m]", "-f", "null", "-"], on_seconds)
    summary = stderr[stderr.rfind("Summary:"):]
    found = {k: re.search(rf"{k}:\s+(\S+)", summary) for k in ("I", "Threshold", "LRA", "Peak")}
    if "Summary:" not in stderr or not all(found.values()):
        raise BroadcastError("ffmpeg_failed", _FAILED, "no ebur128 summary\n" + stderr[-2000:])
    return Loudness(integrated=_num(found["I"][1]), lra=_num(found["LRA"][1]),
                    true_peak=_num(found["Peak"][1]), threshold=_num(found["Threshold"][1]))


def _loudnorm_json(stderr: str) -> dict:
    blocks = re.findall(r"\{[^{}]*\"normalization_type\"[^{}]*\}", stderr)
    if not blocks:
        raise BroadcastError("ffmpeg_failed", _FAILED, "no loudnorm JSON\n" + stderr[-2000:])
    return json.loads(blocks[-1])


@functools.lru_cache(maxsize=None)
def encoder_gain(profile: Mp3Profile) -> float:
    """Level change in dB that LAME applies at ``profile``, measured once per process on
    a 1 kHz sine: its CBR/ABR presets scale the input (``scale`` in LAME's
    abr_switch_map) by 0.95 (-0.45 dB) up to 160 kbit/s, 0.97 at 192, 0.98 at 224 and
    1.0 from 256 kbit/s."""
    wave = "|".join(["0.125*sin(2*PI*1000*t)"] * profile.channels)
    with tempfile.TemporaryDirectory() as tmp:
        mp3 = os.path.join(tmp, "sine.mp3")
        _run([*_FFMPEG, "-f", "lavfi", "-i", f"aevalsrc={wave}:s={profile.sample_rate}:d=3",
              "-c:a", "libmp3lame", "-b:a", str(profile.bitrate), "-f", "mp3", "file:" + mp3])
        stderr = _run([*_FFMPEG, *_input(mp3), "-af", "atrim=1:2,astats", "-f", "null", "-"])
    rms = re.findall(r"RMS level dB: (\S+)", stderr)
    return round(_num(rms[-1]) - 20 * math.log10(0.125 / math.sqrt(2)), 2) + 0.0 if rms else 0.0


# --- planning and encoding ------------------------------------------------------------

@dataclass(frozen=True)
class _Part:
    role: str  # "intro", "programme", "outro"
    path: str
    index: int  # audio stream
    duration: float  # seconds, 0.0 if unknown


@dataclass(frozen=True)
class _Plan:
    part: _Part
    pre: tuple  # filters between the base chain and loudnorm
    measured: Loudness  # loudnorm pass 1 of base + pre
    mode: str  # "linear", "limited" or "dynamic"


class _Aim(NamedTuple):
    integrated: float  # LUFS
    true_peak: float  # dBTP
    lra: float  # LU


def _aim(target: LoudnessTarget, profile: Mp3Profile) -> _Aim:
    """What loudnorm aims at so that the *encoded* file meets ``target``: the true peak
    :data:`TP_MARGIN` below the limit, and both levels raised by what LAME takes off."""
    comp = -encoder_gain(profile)
    return _Aim(target.integrated + comp, min(target.true_peak - TP_MARGIN + comp, 0.0),
                target.lra)


def _base(profile: Mp3Profile) -> tuple:
    """Resample and downmix first (swresample; LFE dropped): measure what is output."""
    layout = "mono" if profile.channels == 1 else "stereo"
    return (("aresample", {"osr": profile.sample_rate}),
            ("aformat", {"sample_fmts": "flt", "sample_rates": profile.sample_rate,
                         "channel_layouts": layout}))


def _loudnorm(aim: _Aim, measured: Loudness, json_out: bool = True) -> tuple:
    """loudnorm towards ``aim`` given ``measured``: a pure gain when :func:`_linear_ok`,
    else its dynamic mode.  measured_LRA=0 (a steady tone, an item < 3 s) would read as
    "not given" and refuse linear mode, hence the floor of 0.01 LU."""
    return ("loudnorm", {
        "I": f"{aim.integrated:.2f}", "TP": f"{aim.true_peak:.2f}", "LRA": f"{aim.lra:.1f}",
        "measured_I": f"{measured.integrated:.2f}", "measured_TP": f"{measured.true_peak:.2f}",
        "measured_LRA": f"{max(measured.lra, 0.01):.2f}",
        "measured_thresh": f"{measured.threshold:.2f}", "offset": 0, "linear": "true",
        "print_format": "json" if json_out else "none"})


def _pass1(part: _Part, pre: tuple, aim: _Aim, profile, on_seconds) -> Loudness:
    """Pass 1: measure base + ``pre`` with loudnorm (integrated, LRA, gate threshold) at
    the output rate and, on a 192 kHz copy, its true peak (``astats`` peak).

    loudnorm's own "input_tp" is the *sample* peak of what it gets, a true peak only
    when oversampled, and its meter at 192 kHz costs 4x the whole pass.  It runs with
    dummy measurements that put it in linear mode at 0 dB gain: in ffmpeg 5.1 its
    dynamic mode (the usual first pass) feeds the last ~2.9 s to its input meter a
    second time when draining, which skews short items (-0.2 LU on a 15 s clip)."""
    dummy = Loudness(integrated=aim.integrated, lra=1.0, true_peak=-99.0, threshold=-99.0)
    meter = _chain(_loudnorm(aim, dummy))
    peak = _chain(("aresample", {"osr": 192000}),
                  ("astats", {"measure_perchannel": "none", "measure_overall": "Peak_level"}))
    graph = (f"[0:{part.index}]{_chain(*_base(profile), *pre)},asplit[a][b];"
             f"[a]{meter}[m];[b]{peak}[p]")
    stderr = _run([*_FFMPEG, "-progress", "pipe:1", *_input(part.path), "-filter_complex", graph,
                   "-map", "[m]", "-c:a", "pcm_f32le", "-f", "null", "-",
                   "-map", "[p]", "-c:a", "pcm_f32le", "-f", "null", "-"], on_seconds)
    j = _loudnorm_json(stderr)
    peaks = re.findall(r"Peak level dB: (\S+)", stderr)
    if j["normalization_type"] != "linear" or not peaks:  # the meter ran in dynamic mode?
        raise BroadcastError("ffmpeg_failed", _FAILED, f"pass 1: {j}\n" + stderr[-2000:])
    return Loudness(integrated=_num(j["input_i"]), lra=_num(j["input_lra"]),
                    true_peak=round(_num(peaks[-1]), 2), threshold=_num(j["input_thresh"]))


def _excess(m: Loudness, aim: _Aim) -> float:
    """dB by which a pure gain to ``aim`` would put the true peak over its aim."""
    return m.true_peak + (aim.integrated - m.integrated) - aim.true_peak


def _linear_ok(m: Loudness, aim: _Aim) -> bool:
    """loudnorm's own condition for linear mode (af_loudnorm.c init()), plus the range of
    its measured_I option (-99..0: a hard-clipped source can measure above 0 LUFS)."""
    return (-99 < m.integrated <= -0.01 and _excess(m, aim) <= -0.01  # not on a rounding edge
            and max(m.lra, 0.01) <= aim.lra and m.threshold > -70)


def _limiter(gain: float, ceiling: float) -> tuple:
    """Gain to the aim, then a 5 ms look-ahead limiter at ``ceiling`` dBFS (sample peak)."""
    return (("volume", {"volume": f"{gain:.2f}dB", "precision": "double"}),
            ("alimiter", {"limit": f"{10 ** (ceiling / 20):.6f}", "level": "false",
                          "latency": "true", "attack": 5, "release": 50}))


def _plan(part: _Part, aim: _Aim, profile, floor: float,
          progress: _Progress) -> tuple[_Plan, Loudness]:
    """Measure a part and choose how to normalise it; returns (plan, first measurement)."""
    first = _pass1(part, (), aim, profile, progress.pass_(part.duration, _COST_MEASURE))
    if not first.integrated > floor:
        raise SilentSource(first, floor, part.role)
    if _linear_ok(first, aim):
        return _Plan(part, (), first, "linear"), first
    if first.lra > aim.lra and first.integrated < -1:
        return _Plan(part, (), first, "dynamic"), first
    # Peaks (or a loudness above 0 LUFS) are in the way: gain + limiter, measure again.
    gain, ceiling = aim.integrated - first.integrated, aim.true_peak - LIMITER_HEADROOM
    for _ in range(3):
        pre = _limiter(gain, ceiling)
        progress.total += part.duration * _COST_MEASURE
        m = _pass1(part, pre, aim, profile, progress.pass_(part.duration, _COST_MEASURE))
        if _linear_ok(m, aim):
            return _Plan(part, pre, m, "limited"), first
        # The limiter took loudness off (loudnorm's make-up gain would lift the peaks over
        # again): feed it that much more, and lower its ceiling by any inter-sample overshoot.
        gain += aim.integrated - m.integrated
        ceiling -= max(m.true_peak - ceiling, 0.0)
    return _Plan(part, pre, m, "dynamic"), first


def _encode_argv(plans: list[_Plan], aim: _Aim, profile: Mp3Profile, out: str) -> list[str]:
    """Pass 2: every part through base + pre + loudnorm, back to the profile's rate
    (loudnorm's dynamic mode outputs 192 kHz), joined by the concat filter, LAME CBR."""
    inputs, graph = [], []
    for i, plan in enumerate(plans):
        inputs += _input(plan.part.path)
        chain = _chain(*_base(profile), *plan.pre,
                       _loudnorm(aim, plan.measured, plan.part.role == "programme"),
                       *_base(profile))
        graph.append(f"[{i}:{plan.part.index}]{chain}[p{i}]")
    if len(plans) > 1:
        graph.append("".join(f"[p{i}]" for i in range(len(plans)))
                     + f"concat=n={len(plans)}:v=0:a=1[p]")
    label = "[p]" if len(plans) > 1 else "[p0]"
    return [*_FFMPEG, "-progress", "pipe:1", *inputs, "-filter_complex", ";".join(graph),
            "-map", label, "-map_metadata", "-1", "-map_chapters", "-1",
            "-c:a", "libmp3lame", "-b:a", str(profile.bitrate), "-ar", str(profile.sample_rate),
            "-ac", str(profile.channels), "-write_id3v1", "0", "-id3v2_version", "3",
            "-f", "mp3", "-y", "file:" + out]


#: Cost of the measuring pass and of the ebur128 check relative to the encoding pass.
_COST_MEASURE, _COST_CHECK = 0.5, 0.35


class _Progress:
    """One increasing fraction in 0..1 over all passes; work counted in media seconds."""

    def __init__(self, callback, total: float):
        self.callback, self.total, self.done, self.last = callback, total, 0.0, 0.0

    def pass_(self, seconds: float, weight: float = 1.0) -> Callable[[float], None]:
        """Start a pass over ``seconds`` of media; returns its ``on_seconds`` callback."""
        start, self.done = self.done, self.done + seconds * weight

        def report(s: float) -> None:
            fraction = min((start + min(s, seconds) * weight) / self.total, 0.999)
            if self.callback and fraction > self.last:
                self.last = fraction
                self.callback(fraction)
        return report


def make_broadcast_mp3(source, out_path, target: LoudnessTarget = PRESETS["ebu_r128"],
                       profile: Mp3Profile = Mp3Profile(), intro=None, outro=None,
                       on_progress: Callable[[float], None] | None = None,
                       silence_floor: float = SILENCE_FLOOR) -> BroadcastResult:
    """Make a broadcast MP3 of ``source``'s default audio stream (any container the hub
    accepts, video included) at ``out_path`` (written aside, then renamed into place).

    Optional ``intro``/``outro`` jingles are normalised separately to the same target
    and joined around the programme.  Output: ``profile`` (default 44.1 kHz mono CBR
    128 kbit/s, LAME), no ID3v1, a bare ID3v2.3 header (tag it with :func:`write_id3`).
    ``on_progress`` receives increasing fractions in 0..1, the last being 1.0.

    Raises :class:`NoAudio` (a part has no audio stream), :class:`SilentSource` (a part
    is below ``silence_floor`` LUFS), :class:`BroadcastError` (unreadable input, ffmpeg
    failure).  An output off target is reported (``on_target``), not raised.
    """
    out = Path(out_path).resolve()
    parts = [_Part(role, str(Path(path).resolve()), *_audio_stream(path, role))
             for role, path in (("intro", intro), ("programme", source), ("outro", outro))
             if path is not None]
    total = sum(p.duration for p in parts) or 1.0
    progress = _Progress(on_progress, (_COST_MEASURE + 1 + _COST_CHECK) * total)
    aim = _aim(target, profile)
    plans, first = [], None
    for part in parts:
        plan, measured = _plan(part, aim, profile, silence_floor, progress)
        plans.append(plan)
        if part.role == "programme":
            first, mode = measured, plan.mode
    tmp = out.with_name(f".{out.name}.part")
    try:
        stderr = _run(_encode_argv(plans, aim, profile, str(tmp)), progress.pass_(total))
        if _loudnorm_json(stderr)["normalization_type"] != "linear":
            mode = "dynamic"
        loudness = _measure(tmp, progress.pass_(total, _COST_CHECK))
        duration = MP3(tmp).info.length
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    if on_progress:
        on_progress(1.0)
    on_target = (abs(loudness.integrated - target.integrated) <= TOLERANCE
                 and loudness.true_peak <= target.true_peak)
    return BroadcastResult(str(out), duration, out.stat().st_size, loudness, first, mode,
                           on_target)


# --- ID3v2.3 --------------------------------------------------------------------------

def write_id3(path, *, title: str, artist: str, album: str | None = None,
              date: dt.date | str | None = None, comment: str | None = None,
              cover_jpeg: bytes | None = None, publisher: str | None = None,
              genre: str = "Speech", language: str = "vie") -> None:
    """Replace the MP3's tags with an ID3v2.3 tag in UTF-16 (encoding 1, the widest
    support for Vietnamese on hardware players) and remove any ID3v1 tag (Latin-1 only).

    Frames: TIT2 ``title``, TPE1 ``artist`` (e.g. "Sở Tư pháp tỉnh …"), TALB ``album``
    (the programme series), TYER + TDAT from ``date`` (a date/datetime, "YYYY-MM-DD" or
    "YYYY"), COMM ``comment`` in ``language`` (ISO 639-2, e.g. the legal documents
    covered), TPUB ``publisher`` (defaults to ``artist``), TCON ``genre``, TLAN
    ``language``, APIC front cover from ``cover_jpeg`` (JPEG bytes).  Text is stored in
    Unicode NFC.  Raises ValueError for a bad date or cover that is not a JPEG.
    """
    if isinstance(date, dt.datetime):
        date = date.date()
    if isinstance(date, dt.date):
        stamp = date.isoformat()
    elif date is None:
        stamp = None
    elif re.fullmatch(r"\d{4}", date):
        stamp = date
    else:
        stamp = dt.date.fromisoformat(date).isoformat()  # ValueError if not YYYY-MM-DD
    if cover_jpeg is not None and not cover_jpeg.startswith(b"\xff\xd8\xff"):
        raise ValueError("cover_jpeg is not a JPEG image")
    try:
        tags = ID3(path)
    except ID3NoHeaderError:
        tags = ID3()
    tags.clear()
    utf16 = 1
    tags.add(TIT2(encoding=utf16, text=_nfc(title)))
    tags.add(TPE1(encoding=utf16, text=_nfc(artist)))
    tags.add(TPUB(encoding=utf16, text=_nfc(publisher or artist)))
    tags.add(TCON(encoding=utf16, text=_nfc(genre)))
    tags.add(TLAN(encoding=utf16, text=language))
    if album:
        tags.add(TALB(encoding=utf16, text=_nfc(album)))
    if stamp:
        tags.add(TDRC(encoding=utf16, text=stamp))
    if comment:
        tags.add(COMM(encoding=utf16, lang=language, desc="", text=_nfc(comment)))
    if cover_jpeg is not None:
        tags.add(APIC(encoding=utf16, mime="image/jpeg", type=3, desc="", data=cover_jpeg))
    tags.update_to_v23()  # TDRC -> TYER (year) + TDAT (DDMM)
    tags.save(path, v1=0, v2_version=3)
