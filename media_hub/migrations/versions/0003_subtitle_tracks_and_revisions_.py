"""subtitle tracks and revisions, transcript, burned-in rendition

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 05:55:58.728864
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('subtitle_track',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('status', sa.Enum('draft', 'reviewed', name='trackstatus', native_enum=False, length=16), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('reviewed_revision', sa.Integer(), nullable=True),
    sa.Column('source', sa.Enum('asr', 'editor', name='cuesource', native_enum=False, length=16), nullable=False),
    sa.Column('hls_prefix', sa.String(length=512), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['media_item.id'], name=op.f('fk_subtitle_track_item_id_media_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subtitle_track')),
    sa.UniqueConstraint('item_id', 'language', name=op.f('uq_subtitle_track_item_id'))
    )
    with op.batch_alter_table('subtitle_track', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subtitle_track_item_id'), ['item_id'], unique=False)

    op.create_table('subtitle_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('asr', 'editor', name='cuesource', native_enum=False, length=16), nullable=False),
    sa.Column('cues', sa.JSON(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_subtitle_revision_author_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['track_id'], ['subtitle_track.id'], name=op.f('fk_subtitle_revision_track_id_subtitle_track'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subtitle_revision')),
    sa.UniqueConstraint('track_id', 'number', name=op.f('uq_subtitle_revision_track_id'))
    )
    with op.batch_alter_table('subtitle_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subtitle_revision_track_id'), ['track_id'], unique=False)

    with op.batch_alter_table('media_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transcript', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('subtitle_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('burned_key', sa.String(length=512), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('media_item', schema=None) as batch_op:
        batch_op.drop_column('burned_key')
        batch_op.drop_column('subtitle_note')
        batch_op.drop_column('transcript')

    with op.batch_alter_table('subtitle_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subtitle_revision_track_id'))

    op.drop_table('subtitle_revision')
    with op.batch_alter_table('subtitle_track', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subtitle_track_item_id'))

    op.drop_table('subtitle_track')
