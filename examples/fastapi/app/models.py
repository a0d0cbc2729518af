# The design's Task, over taskauth's table. The database fills in user_id (the verified caller,
# taskauth.current_user_id(); no one else can be set) and the times (a trigger keeps
# updated_at). The User model is gone: the accounts belong to the issuer of the tokens.
import uuid
from datetime import datetime
from typing import Optional

from sqlalchemy import FetchedValue
from sqlmodel import Field, SQLModel


def filled_in() -> dict:
    """A column the database fills in: an INSERT leaves it out, so that its default applies."""
    return {"server_default": FetchedValue()}


class TaskBase(SQLModel):
    title: str
    description: Optional[str] = None
    is_completed: bool = False


class Task(TaskBase, table=True):
    __tablename__ = "tasks"
    __table_args__ = {"schema": "taskauth"}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: Optional[uuid.UUID] = Field(default=None, sa_column_kwargs=filled_in())
    created_at: Optional[datetime] = Field(default=None, sa_column_kwargs=filled_in())
    updated_at: Optional[datetime] = Field(default=None, sa_column_kwargs=filled_in())


class TaskCreate(TaskBase):
    pass


class TaskUpdate(SQLModel):
    title: Optional[str] = None
    description: Optional[str] = None
    is_completed: Optional[bool] = None
