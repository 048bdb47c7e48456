"""youtube mirror, quota, url imports, source attribution

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 06:11:16.495182
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('youtube_quota',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=40), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'method', name=op.f('pk_youtube_quota'))
    )
    op.create_table('url_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('normalized_url', sa.String(length=2000), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=True),
    sa.Column('state', sa.Enum('queued', 'downloading', 'done', 'duplicate', 'failed', name='importstate', native_enum=False, length=16), nullable=False),
    sa.Column('progress', sa.Double(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('duplicate_of', sa.Integer(), nullable=True),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_url_import_created_by_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['duplicate_of'], ['media_item.id'], name=op.f('fk_url_import_duplicate_of_media_item'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['media_item.id'], name=op.f('fk_url_import_item_id_media_item'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_url_import'))
    )
    with op.batch_alter_table('url_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_url_import_normalized_url'), ['normalized_url'], unique=False)

    op.create_table('youtube_mirror',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'uploading', 'mirrored', 'postponed', 'failed', 'withdrawn', name='mirrorstatus', native_enum=False, length=16), nullable=False),
    sa.Column('video_id', sa.String(length=32), nullable=True),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('retry_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('warning', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['media_item.id'], name=op.f('fk_youtube_mirror_item_id_media_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_youtube_mirror')),
    sa.UniqueConstraint('item_id', name=op.f('uq_youtube_mirror_item_id'))
    )
    with op.batch_alter_table('media_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_url', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('source_attribution', sa.String(length=300), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('media_item', schema=None) as batch_op:
        batch_op.drop_column('source_attribution')
        batch_op.drop_column('source_url')

    op.drop_table('youtube_mirror')
    with op.batch_alter_table('url_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_url_import_normalized_url'))

    op.drop_table('url_import')
    op.drop_table('youtube_quota')
