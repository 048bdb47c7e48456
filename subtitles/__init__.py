"""Vietnamese subtitles: speech recognition, cue segmentation and subtitle formats.

Empty for now; filled by the auto-subtitling work (faster-whisper, WebVTT/SRT).
"""
