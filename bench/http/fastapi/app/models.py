from sqlmodel import SQLModel, Field, Session, select
from starlette.concurrency import run_in_threadpool
from datetime import datetime
from typing import List, Optional
import uuid

from app.db import engine


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(unique=True, index=True, nullable=False)
    hashed_password: str = Field(nullable=False)
    created_at: datetime = Field(default_factory=datetime.utcnow)
    updated_at: datetime = Field(default_factory=datetime.utcnow)


class Task(SQLModel, table=True):
    __tablename__ = "tasks"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", nullable=False, index=True)
    title: str = Field(nullable=False)
    description: Optional[str] = None
    is_completed: bool = Field(default=False)
    created_at: datetime = Field(default_factory=datetime.utcnow)
    updated_at: datetime = Field(default_factory=datetime.utcnow)

    # The design's route awaits Task.get_by_user_id(user_id). SQLModel's Session is
    # synchronous, so the query runs in the thread pool (as FastAPI runs a plain `def` route)
    # and never blocks the event loop.
    @classmethod
    async def get_by_user_id(cls, user_id) -> List["Task"]:
        return await run_in_threadpool(cls._select_by_user_id, user_id)

    @classmethod
    def _select_by_user_id(cls, user_id) -> List["Task"]:
        with Session(engine) as session:
            return session.exec(select(cls).where(cls.user_id == user_id)).all()
