"""commune radio: broadcast audio, programmes, downloads

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 06:05:48.642552
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('radio_programme',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('intro_item_id', sa.Integer(), nullable=True),
    sa.Column('outro_item_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['intro_item_id'], ['media_item.id'], name=op.f('fk_radio_programme_intro_item_id_media_item'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['outro_item_id'], ['media_item.id'], name=op.f('fk_radio_programme_outro_item_id_media_item'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_radio_programme')),
    sa.UniqueConstraint('name', name=op.f('uq_radio_programme_name'))
    )
    op.create_table('radio_download',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('commune_code', sa.Integer(), nullable=True),
    sa.Column('via', sa.String(length=8), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['media_item.id'], name=op.f('fk_radio_download_item_id_media_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_radio_download_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_radio_download'))
    )
    with op.batch_alter_table('radio_download', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_radio_download_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_radio_download_commune_code'), ['commune_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_radio_download_item_id'), ['item_id'], unique=False)

    with op.batch_alter_table('media_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('programme_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('broadcast_key', sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column('broadcast_size', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('broadcast_duration', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('broadcast_loudness', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('broadcast_note', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_media_item_programme_id_radio_programme'), 'radio_programme', ['programme_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('commune_code', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('feed_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_user_account_feed_key'), ['feed_key'])



def downgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_user_account_feed_key'), type_='unique')
        batch_op.drop_column('feed_key')
        batch_op.drop_column('commune_code')

    with op.batch_alter_table('media_item', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_media_item_programme_id_radio_programme'), type_='foreignkey')
        batch_op.drop_column('broadcast_note')
        batch_op.drop_column('broadcast_loudness')
        batch_op.drop_column('broadcast_duration')
        batch_op.drop_column('broadcast_size')
        batch_op.drop_column('broadcast_key')
        batch_op.drop_column('programme_id')

    with op.batch_alter_table('radio_download', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_radio_download_item_id'))
        batch_op.drop_index(batch_op.f('ix_radio_download_commune_code'))
        batch_op.drop_index(batch_op.f('ix_radio_download_at'))

    op.drop_table('radio_download')
    op.drop_table('radio_programme')
