"""channel: profile, schedule, rotations, compliant renditions, plan

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 06:12:20.633340
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('channel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('group', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('rungs', sa.JSON(), nullable=False),
    sa.Column('target_duration', sa.Integer(), nullable=False),
    sa.Column('window_segments', sa.Integer(), nullable=False),
    sa.Column('origin_us', sa.BigInteger(), nullable=False),
    sa.Column('plan', sa.JSON(), nullable=False),
    sa.Column('filler', sa.JSON(), nullable=False),
    sa.Column('filler_item_ids', sa.JSON(), nullable=False),
    sa.Column('plan_version', sa.Integer(), nullable=False),
    sa.Column('slate_key', sa.String(length=512), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel')),
    sa.UniqueConstraint('slug', name=op.f('uq_channel_slug'))
    )
    op.create_table('channel_rotation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=True),
    sa.Column('weekdays', sa.JSON(), nullable=False),
    sa.Column('start_time', sa.String(length=5), nullable=False),
    sa.Column('end_time', sa.String(length=5), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channel.id'], name=op.f('fk_channel_rotation_channel_id_channel'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['topic.id'], name=op.f('fk_channel_rotation_topic_id_topic'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_rotation'))
    )
    with op.batch_alter_table('channel_rotation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_rotation_channel_id'), ['channel_id'], unique=False)

    op.create_table('channel_programme',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration', sa.Double(), nullable=False),
    sa.Column('rotation_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channel.id'], name=op.f('fk_channel_programme_channel_id_channel'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_channel_programme_created_by_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['media_item.id'], name=op.f('fk_channel_programme_item_id_media_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rotation_id'], ['channel_rotation.id'], name=op.f('fk_channel_programme_rotation_id_channel_rotation'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_programme'))
    )
    with op.batch_alter_table('channel_programme', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_programme_channel_id'), ['channel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_channel_programme_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_channel_programme_start'), ['start'], unique=False)

    op.create_table('channel_rendition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('profile', sa.String(length=100), nullable=False),
    sa.Column('status', sa.Enum('pending', 'ready', 'failed', name='renditionstatus', native_enum=False, length=16), nullable=False),
    sa.Column('master_key', sa.String(length=512), nullable=True),
    sa.Column('playlists', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['media_item.id'], name=op.f('fk_channel_rendition_item_id_media_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_rendition')),
    sa.UniqueConstraint('item_id', 'profile', name=op.f('uq_channel_rendition_item_id'))
    )
    with op.batch_alter_table('channel_rendition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_rendition_item_id'), ['item_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('channel_rendition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_rendition_item_id'))

    op.drop_table('channel_rendition')
    with op.batch_alter_table('channel_programme', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_programme_start'))
        batch_op.drop_index(batch_op.f('ix_channel_programme_item_id'))
        batch_op.drop_index(batch_op.f('ix_channel_programme_channel_id'))

    op.drop_table('channel_programme')
    with op.batch_alter_table('channel_rotation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_rotation_channel_id'))

    op.drop_table('channel_rotation')
    op.drop_table('channel')
