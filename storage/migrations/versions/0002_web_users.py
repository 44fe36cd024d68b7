"""web console accounts and diary comments

Revision ID: 0002_web_users
Revises: 0002_roster_changes
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_web_users'
down_revision = '0002_roster_changes'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('web_users',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('unit_id', BIG_ID, nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_web_users_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_users')),
    sa.UniqueConstraint('name', name=op.f('uq_web_users_name'))
    )
    with op.batch_alter_table('web_users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_users_unit_id'), ['unit_id'], unique=False)

    op.create_table('diary_comments',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('diary_id', BIG_ID, nullable=False),
    sa.Column('user_id', BIG_ID, nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['diary_id'], ['diary_entries.id'], name=op.f('fk_diary_comments_diary_id_diary_entries')),
    sa.ForeignKeyConstraint(['user_id'], ['web_users.id'], name=op.f('fk_diary_comments_user_id_web_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_diary_comments'))
    )
    with op.batch_alter_table('diary_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_diary_comments_diary_id'), ['diary_id'], unique=False)


def downgrade() -> None:
    op.drop_table('diary_comments')
    op.drop_table('web_users')
