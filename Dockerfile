# One image for the API and the workers of the distributed setup (docker-compose.yml).
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg libmagic1 espeak-ng fonts-noto-core \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY media_hub media_hub
COPY workers workers
COPY players players
COPY subtitles subtitles
COPY storage storage
RUN pip install --no-cache-dir .
ENV MEDIA_HUB_DATA_DIR=/data
VOLUME /data
EXPOSE 8000
CMD ["media-hub", "serve", "--no-worker", "--host", "0.0.0.0", "--port", "8000"]
