"""library: search text rebuilt from reviewed subtitles only (no draft transcripts)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 02:10:00.000000
"""

import json

from alembic import op
import sqlalchemy as sa

from media_hub.legal.service import fold

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Same text as media_hub.legal.service.search_text, read with plain SQL (the models
    may have moved on since this revision)."""
    bind = op.get_bind()

    def column(sql: str, item_id: int) -> list:
        return list(bind.execute(sa.text(sql), {"id": item_id}).scalars())

    rows = bind.execute(sa.text("SELECT id, title, description, audience FROM media_item")).all()
    for item_id, title, description, audience in rows:
        parts = [title, description or "", audience or ""]
        parts += column("SELECT t.name FROM topic t JOIN item_topic it ON it.topic_id = t.id "
                        "WHERE it.item_id = :id ORDER BY t.name", item_id)
        parts += column("SELECT d.doc_type || ' ' || d.number || ' ' || d.title || ' ' || d.issuing_body "
                        "FROM legal_document d JOIN item_document idoc ON idoc.document_id = d.id "
                        "WHERE idoc.item_id = :id ORDER BY d.number", item_id)
        for cues in column("SELECT r.cues FROM subtitle_track t JOIN subtitle_revision r "
                           "ON r.track_id = t.id AND r.number = t.reviewed_revision "
                           "WHERE t.item_id = :id ORDER BY t.language", item_id):
            parts += [str(text) for _, _, text in (json.loads(cues) if isinstance(cues, str) else cues)]
        bind.execute(sa.text("UPDATE media_item SET search_text = :text WHERE id = :id"),
                     {"text": fold(" ".join(parts)), "id": item_id})


def downgrade() -> None:
    pass  # the drafts' words are not put back into the index
