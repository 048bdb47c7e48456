"""library: media items, renditions, jobs

Revision ID: 0001
Revises: 
Create Date: 2026-11-30 05:19:38.511404
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('media_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('slug', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('kind', sa.Enum('skit', 'scenario', 'radio', name='mediakind', native_enum=False, length=16), nullable=False),
    sa.Column('status', sa.Enum('uploaded', 'processing', 'ready', 'failed', 'published', name='mediastatus', native_enum=False, length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('duration', sa.Float(), nullable=True),
    sa.Column('probe', sa.JSON(), nullable=True),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('original_filename', sa.String(length=500), nullable=False),
    sa.Column('original_content_type', sa.String(length=100), nullable=False),
    sa.Column('original_key', sa.String(length=512), nullable=False),
    sa.Column('master_key', sa.String(length=512), nullable=True),
    sa.Column('poster_key', sa.String(length=512), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media_item')),
    sa.UniqueConstraint('public_id', name=op.f('uq_media_item_public_id')),
    sa.UniqueConstraint('slug', name=op.f('uq_media_item_slug'))
    )
    with op.batch_alter_table('media_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_media_item_checksum'), ['checksum'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_item_status'), ['status'], unique=False)

    op.create_table('job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('task', sa.String(length=32), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'retrying', 'succeeded', 'failed', name='jobstate', native_enum=False, length=16), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('worker', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['media_item.id'], name=op.f('fk_job_item_id_media_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job'))
    )
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_heartbeat_at'), ['heartbeat_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_state'), ['state'], unique=False)

    op.create_table('rendition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=16), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('video_bitrate', sa.Integer(), nullable=True),
    sa.Column('audio_bitrate', sa.Integer(), nullable=True),
    sa.Column('bandwidth', sa.Integer(), nullable=False),
    sa.Column('average_bandwidth', sa.Integer(), nullable=False),
    sa.Column('frame_rate', sa.Float(), nullable=True),
    sa.Column('codecs', sa.String(length=100), nullable=False),
    sa.Column('playlist_key', sa.String(length=512), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['media_item.id'], name=op.f('fk_rendition_item_id_media_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rendition'))
    )
    with op.batch_alter_table('rendition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rendition_item_id'), ['item_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('rendition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rendition_item_id'))

    op.drop_table('rendition')
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_state'))
        batch_op.drop_index(batch_op.f('ix_job_item_id'))
        batch_op.drop_index(batch_op.f('ix_job_heartbeat_at'))

    op.drop_table('job')
    with op.batch_alter_table('media_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_media_item_status'))
        batch_op.drop_index(batch_op.f('ix_media_item_checksum'))

    op.drop_table('media_item')
