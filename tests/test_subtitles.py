"""subtitles.asr end to end on real speech: espeak-ng Vietnamese, Whisper base (int8, CPU).

The model is joined and loaded once per session (``asr`` fixture).  espeak-ng's Vietnamese
voice is robotic; Whisper base hears it much worse than a human presenter, so the
recognition thresholds below are set from measurements on this voice (see each test).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
import unicodedata

import numpy as np
import pytest

from subtitles import (
    AsrError, AsrSettings, NoAudio, Transcript, prepare_default_model, segment, to_srt, to_webvtt,
    transcribe,
)
from subtitles import asr as asr_module
from subtitles._text import fold
from subtitles.asr import BASE_MODEL_FILES, Segment, Word, collapse_loops, hotwords, is_blocklisted
from subtitles.formats import read_subtitles
from tests.media_factory import make_hls_playlist, make_text, make_video
from tests.speech_factory import (
    LEGAL_CONTEXT, LEGAL_SENTENCES, RATE, Built, build, convert, read_wav, silence, tones,
    write_wav,
)
from tests.test_subtitles_formats import check_cues


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def asr(models_dir) -> AsrSettings:
    """Settings of the default model on 2 CPU threads, model loaded once for the session."""
    settings = AsrSettings(models_dir=models_dir, cpu_threads=2)
    asr_module.load_model(settings)
    return settings


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="session")
def legal(speech_dir) -> Built:
    """The six legal sentences with 1 s pauses (~45 s)."""
    pieces: list = [0.5]
    for sentence, _ in LEGAL_SENTENCES:
        pieces += [sentence, 1.0]
    return build(speech_dir / "legal.wav", pieces)


@pytest.fixture(scope="session")
def legal_transcript(legal, asr) -> Transcript:
    return transcribe(legal.path, asr)


#: Key-word recall a working recogniser clears on this voice on any CPU: measured 0.55-0.59
#: on one machine, but CTranslate2's int8 kernels differ by instruction set, so the bar is
#: "clearly recognising Vietnamese", not one machine's figure.
KEY_FLOOR = 0.3


def key_recall(text: str) -> float:
    """Share of the key words heard, ignoring case, diacritics and punctuation."""
    heard = set(fold(text).split())
    keys = [w for _, k in LEGAL_SENTENCES for w in fold(k).split()]
    return sum(w in heard for w in keys) / len(keys)


# ---------------------------------------------------------------- model files


def test_default_model_joined_once_and_verified(tmp_path):
    folder = prepare_default_model(tmp_path)
    assert folder == tmp_path / "whisper-base"
    for name, (size, sha) in BASE_MODEL_FILES.items():
        assert (folder / name).stat().st_size == size
    assert (folder / "SHA256SUMS").read_text().count("\n") == 4
    digest = hashlib.sha256((folder / "config.json").read_bytes()).hexdigest()
    assert digest == BASE_MODEL_FILES["config.json"][1]
    mtime = (folder / "model.bin").stat().st_mtime_ns
    assert prepare_default_model(tmp_path) == folder  # second call: nothing rewritten
    assert (folder / "model.bin").stat().st_mtime_ns == mtime
    # a damaged copy (wrong size) is rebuilt; no temporary folder is left behind
    with open(folder / "model.bin", "r+b") as f:
        f.truncate(1000)
    prepare_default_model(tmp_path)
    assert (folder / "model.bin").stat().st_size == BASE_MODEL_FILES["model.bin"][0]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".whisper-base.lock", "whisper-base"]


def test_vad_model_is_bundled():
    from faster_whisper.utils import get_assets_path

    assert os.path.getsize(os.path.join(get_assets_path(), "silero_vad_v6.onnx")) > 100_000


# ---------------------------------------------------------------- recognition


def test_legal_sentences(legal, legal_transcript):
    """Measured with base/int8, beam 5 on this espeak voice: 0.56 of the key words on one
    machine; the test asks for :data:`KEY_FLOOR` (recognition differs by CPU)."""
    t = legal_transcript
    assert t.language == "vi" and t.duration == pytest.approx(legal.duration, abs=0.05)
    assert key_recall(t.text) >= KEY_FLOOR, t.text
    assert all(unicodedata.is_normalized("NFC", w.text) for w in t.words)
    # word times are in the file's time line, inside the spoken part, in order
    starts = [w.start for w in t.words]
    assert starts == sorted(starts)
    assert legal.speech[0][0] - 0.5 <= t.words[0].start
    assert t.words[-1].end <= legal.speech[-1][1] + 0.5
    cues = segment(t.words, duration=t.duration)
    check_cues(cues, duration=t.duration, words=t.words)
    assert read_subtitles(to_webvtt(cues).encode()) == cues
    assert read_subtitles(to_srt(cues).encode()) == cues


def test_glossary_hotwords_are_opt_in(legal, asr):
    """Glossary hotwords are off by default (they helped on one CPU and cut key-word recall
    from 0.56 to 0.32 on another); opted in, the title's glossary terms become hotwords and
    recognition still gives valid, timed Vietnamese cues.  No recall figure is asserted:
    it differs by CPU (CTranslate2's int8 kernels)."""
    assert AsrSettings().glossary_path is None
    assert hotwords(asr, LEGAL_CONTEXT) is None
    opted = dataclasses.replace(asr, glossary_path=asr_module.DEFAULT_GLOSSARY)
    hw = hotwords(opted, LEGAL_CONTEXT, asr_module.load_model(asr).hf_tokenizer)
    assert "Luật Trật tự, an toàn giao thông đường bộ" in hw and "Nghị định" in hw
    t = transcribe(legal.path, opted, context=LEGAL_CONTEXT)
    assert t.language == "vi" and t.words and key_recall(t.text) > 0, t.text
    check_cues(segment(t.words, duration=t.duration), duration=t.duration, words=t.words)


def test_batched_pipeline_option(legal, asr):
    """``batched=True`` (faster on CPU, see bench/asr.py): same contract."""
    t = transcribe(legal.path, dataclasses.replace(asr, batched=True))
    assert key_recall(t.text) >= KEY_FLOOR, t.text
    starts = [w.start for w in t.words]
    assert starts == sorted(starts) and t.words[-1].end <= legal.speech[-1][1] + 0.5
    check_cues(segment(t.words, duration=t.duration), duration=t.duration, words=t.words)


def test_progress_reports(legal, asr):
    seen: list[tuple[float, float]] = []
    transcribe(legal.path, dataclasses.replace(asr, beam_size=1),
               on_progress=lambda done, total: seen.append((done, total)))
    assert len(seen) >= 2 and seen[-1] == (pytest.approx(legal.duration, abs=0.05),) * 2
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_silence_gives_no_cues(speech_dir, asr):
    path = silence(speech_dir / "silence.wav", 60)
    t = transcribe(path, asr)
    assert t.segments == [] and t.speech_spans == [] and t.duration == pytest.approx(60)
    cues = segment(t.words, duration=t.duration)
    assert cues == [] and to_webvtt(cues) == "WEBVTT\n\n" and to_srt(cues) == ""


def test_tones_give_no_text(speech_dir, asr):
    t = transcribe(tones(speech_dir / "tones.wav", 30), asr)
    assert t.text == "", t.text


def test_nothing_after_speech_ends(speech_dir, asr):
    built = build(speech_dir / "then_silence.wav",
                  [0.3, LEGAL_SENTENCES[2][0], 0.6, LEGAL_SENTENCES[4][0], 20.0])
    speech_end = built.speech[-1][1]
    t = transcribe(built.path, asr)
    assert t.words and max(w.end for w in t.words) <= speech_end + 0.5
    cues = segment(t.words, duration=t.duration)
    assert cues and all(c.start <= speech_end + 0.5 for c in cues)
    assert cues[-1].end <= speech_end + 5  # at most the reading-time extension


@pytest.mark.parametrize("kind, args, recall", [
    ("telephone.wav", ["-ar", "8000", "-ac", "1", "-c:a", "pcm_mulaw"], 0.15),
    ("stereo.mp3", ["-ar", "44100", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k"], KEY_FLOOR),
    ("stereo.m4a", ["-ar", "44100", "-ac", "2", "-c:a", "aac"], KEY_FLOOR),
])
def test_input_formats(kind, args, recall, legal, speech_dir, asr):
    """The legal sentences as 8 kHz μ-law telephone audio (measured key-word recall 0.34)
    and as 44.1 kHz stereo MP3 / AAC (0.55 / 0.59; 0.56 for the 22.05 kHz original)."""
    path = convert(legal.path, speech_dir / kind, *args)
    t = transcribe(path, asr)
    assert t.duration == pytest.approx(legal.duration, abs=0.1)
    assert key_recall(t.text) >= recall, t.text
    # Words stay on the speech and cover the file, not just its start; which sentence is
    # heard last differs by CPU at telephone quality, so no closer figure.
    middle = (legal.speech[0][0] + legal.speech[-1][1]) / 2
    assert middle < t.words[-1].end <= legal.speech[-1][1] + 1.0, t.words[-1]


def test_half_second_clip(speech_dir, asr):
    built = build(speech_dir / "long.wav", [LEGAL_SENTENCES[4][0]])
    clip = convert(built.path, speech_dir / "clip.wav", "-t", "0.5")
    t = transcribe(clip, asr)
    assert t.duration == pytest.approx(0.5, abs=0.01)
    check_cues(segment(t.words, duration=t.duration), duration=t.duration)


def test_video_without_audio_is_noaudio(speech_dir, asr):
    path = make_video(speech_dir / "mute.mp4", audio=False, duration=1.0)
    with pytest.raises(NoAudio) as exc:
        transcribe(path, asr)
    assert "âm thanh" in str(exc.value)


@pytest.mark.parametrize("make", [make_text, make_hls_playlist])
def test_not_media_is_asr_error(make, speech_dir, asr):
    """Text, and an HLS playlist disguised as .mp4 (never followed: whitelists)."""
    path = make(speech_dir / f"{make.__name__}.mp4")
    with pytest.raises(AsrError) as exc:
        transcribe(path, asr)
    assert not isinstance(exc.value, NoAudio) and "tệp" in str(exc.value).lower()


def test_video_with_speech(speech_dir, asr):
    path = make_video(speech_dir / "talk.mp4", speech=True, duration=6.0)
    t = transcribe(path, asr)
    assert t.duration == pytest.approx(6.0, abs=0.1) and t.words


def test_auto_language_ignores_music_intro(legal, speech_dir, asr, monkeypatch):
    """Detection sees the VAD speech only; among ("vi", "en") the speech is Vietnamese."""
    intro = convert(tones(speech_dir / "intro_src.wav", 12), speech_dir / "intro.wav",
                    "-ac", "1", "-ar", str(RATE))
    samples = np.concatenate([read_wav(intro), read_wav(legal.path)])
    path = write_wav(speech_dir / "intro_then_legal.wav", samples)
    model = asr_module.load_model(asr)
    heard = []
    original = model.detect_language

    def spy(audio=None, **kwargs):
        heard.append(audio)
        return original(audio=audio, **kwargs)

    monkeypatch.setattr(model, "detect_language", spy)
    t = transcribe(path, dataclasses.replace(asr, language=None, language_candidates=("vi", "en"),
                                             beam_size=1))
    assert t.language == "vi"
    [audio] = heard
    assert len(audio) == 30 * 16000  # the first 30 s of speech...
    assert t.speech_spans[0][0] >= 12.0  # ...and none of the 12 s of music before it


def test_ten_minutes_do_not_drift(speech_dir, asr):
    """~10 min of sentences and pauses (0.4-4 s): word and cue times stay on the speech."""
    sentences = [s for s, _ in LEGAL_SENTENCES]
    pieces: list = [1.0]
    for n in range(71):
        pieces += [sentences[n % len(sentences)], [0.4, 1.0, 2.5, 4.0][n % 4]]
    pieces[-1] = 0.5  # the file ends 0.5 s after the speech
    built = build(speech_dir / "ten_minutes.wav", pieces)
    assert 560 <= built.duration <= 660
    started = time.perf_counter()
    t = transcribe(built.path, asr)
    elapsed = time.perf_counter() - started
    print(f"10-minute file: {built.duration:.0f} s of audio in {elapsed:.0f} s")
    cues = segment(t.words, duration=t.duration)
    check_cues(cues, duration=t.duration, words=t.words)
    speech_end = built.speech[-1][1]
    assert abs(t.words[-1].end - speech_end) <= 1.5
    assert abs(cues[-1].end - speech_end) <= 1.5
    # no drift in the middle either: a word starts near nearly every sentence start
    starts = np.array([w.start for w in t.words])
    near = [float(np.min(np.abs(starts - s))) for s, _ in built.speech]
    # 7-8 of 71 sentences are missed today on this machine (speech lost after pauses:
    # issue 12 makes it 0); the bar leaves room for other CPUs' kernels.
    assert np.median(near) <= 0.5 and sum(d > 1.5 for d in near) <= len(near) // 8, near


# ---------------------------------------------------------------- filters


def test_blocklist_matching():
    assert is_blocklisted("Hãy subscribe cho kênh Ghiền Mì Gõ Để không bỏ lỡ những video hấp dẫn")
    assert is_blocklisted("HẸN GẶP LẠI CÁC BẠN TRONG NHỮNG VIDEO TIẾP THEO!!!")
    assert is_blocklisted("hen gap lai cac ban trong nhung video tiep theo")
    assert is_blocklisted(unicodedata.normalize("NFD", "Cảm ơn các bạn đã theo dõi."))
    assert not is_blocklisted("Luật Giao thông đường bộ quy định rõ.")
    assert not is_blocklisted("các bạn")  # too short to be a fragment


def test_blocklisted_segment_dropped_outside_speech_only(asr):
    words = [Word(10.0 + i * 0.3, 10.3 + i * 0.3, w)
             for i, w in enumerate("Cảm ơn các bạn đã theo dõi.".split())]
    seg = Segment(words[0].start, words[-1].end, "Cảm ơn các bạn đã theo dõi.", words)
    no_vad = dataclasses.replace(asr, vad=False)
    assert asr_module._clean(seg, [(0.0, 5.0)], no_vad) is None  # no speech there
    assert asr_module._clean(seg, [(9.5, 13.0)], asr) is not None  # the presenter said it
    # words lying wholly outside the speech spans are dropped (VAD on)
    kept = asr_module._clean(seg, [(9.5, 10.5)], asr)
    assert kept is not None and [w.text for w in kept.words] == ["Cảm", "ơn"]


def test_blocks_bound_whisper_calls():
    sr, block = 16000, asr_module.BLOCK_SECONDS * 16000
    chunks = [{"start": i * 100 * sr, "end": i * 100 * sr + 90 * sr} for i in range(10)]
    blocks = asr_module._blocks(chunks)
    assert [c for b in blocks for c in b] == chunks
    assert all(sum(c["end"] - c["start"] for c in b) <= block for b in blocks)
    assert len(blocks) == 4  # 3 chunks of 90 s per 300-s block


def test_trailing_zero_length_words_and_loops_dropped(asr):
    words = [Word(1.0, 1.4, "Bộ"), Word(1.4, 1.8, "luật"), Word(1.8, 1.8, "Luật"),
             Word(1.8, 1.8, "Trẻ"), Word(1.8, 1.8, "em")]
    seg = Segment(1.0, 1.8, "", words)
    assert asr_module._clean(seg, [(0.5, 2.0)], asr).text == "Bộ luật"
    loop = [Word(i * 0.2, i * 0.2 + 0.2, "anh,") for i in range(12)] + [Word(3, 3.5, "nhé")]
    assert [w.text for w in collapse_loops(loop)] == ["anh,", "nhé"]
    twice = [Word(0, 1, "từ"), Word(1, 2, "từ")]
    assert collapse_loops(twice) == twice
