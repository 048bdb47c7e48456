"""Vietnamese subtitles: speech recognition, cue segmentation and subtitle formats.

A plain library (no web, queue, database or storage code)::

    from subtitles import AsrSettings, transcribe, segment, to_webvtt

    transcript = transcribe("talk.mp4", AsrSettings(models_dir=data_dir / "models"),
                            on_progress=report, context=item_title)
    cues = segment(transcript.words, duration=transcript.duration)
    vtt = to_webvtt(cues)  # str; write it as UTF-8

Modules: :mod:`subtitles.asr` (faster-whisper), :mod:`subtitles.cues` (segmentation),
:mod:`subtitles.formats` (WebVTT, SRT, HLS, reading uploads).  Data files (editable):
``subtitles/data/legal_glossary_vi.txt`` and ``subtitles/data/hallucinations_vi.txt``.
"""

from subtitles.asr import (
    AsrError, AsrSettings, NoAudio, Segment, Transcript, Word, load_model,
    prepare_default_model, transcribe,
)
from subtitles.cues import Cue, CueLimits, segment
from subtitles.formats import (
    SubtitleFormatError, hls_subtitle_playlist, hls_webvtt_segments, read_subtitles, to_srt,
    to_text, to_webvtt,
)

__all__ = [
    "AsrError", "AsrSettings", "Cue", "CueLimits", "NoAudio", "Segment", "SubtitleFormatError",
    "Transcript", "Word", "hls_subtitle_playlist", "hls_webvtt_segments", "load_model",
    "prepare_default_model", "read_subtitles", "segment", "to_srt", "to_text", "to_webvtt",
    "transcribe",
]
