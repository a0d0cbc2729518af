# The design's /api/tasks routes. None of them names a user: each runs in the caller's session
# (app.db.get_session), and row-level security limits every statement to the caller's own
# tasks. Another user's task is not there for the caller: 404, as for a task that never was.
import uuid
from typing import List

from fastapi import APIRouter, Depends, HTTPException, Response, status
from sqlmodel import Session, select

from app.db import get_session
from app.models import Task, TaskCreate, TaskUpdate

router = APIRouter(prefix="/api/tasks")


@router.get("", response_model=List[Task])
def list_tasks(session: Session = Depends(get_session)):
    return session.exec(select(Task).order_by(Task.created_at)).all()


@router.post("", response_model=Task, status_code=status.HTTP_201_CREATED)
def create_task(data: TaskCreate, session: Session = Depends(get_session)):
    task = Task(title=data.title, description=data.description, is_completed=data.is_completed)
    return save(session, task)


@router.get("/{task_id}", response_model=Task)
def read_task(task_id: uuid.UUID, session: Session = Depends(get_session)):
    return find(session, task_id)


@router.patch("/{task_id}", response_model=Task)
def update_task(task_id: uuid.UUID, data: TaskUpdate, session: Session = Depends(get_session)):
    task = find(session, task_id)
    # pydantic 2 calls it model_dump; pydantic 1 (Debian 12's) dict
    dump = data.model_dump if hasattr(data, "model_dump") else data.dict
    for name, value in dump(exclude_unset=True).items():
        setattr(task, name, value)
    return save(session, task)


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_task(task_id: uuid.UUID, session: Session = Depends(get_session)):
    session.delete(find(session, task_id))
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def find(session: Session, task_id: uuid.UUID) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Task not found")
    return task


def save(session: Session, task: Task) -> Task:
    session.add(task)
    session.flush()
    session.refresh(task)  # what the database filled in, read while the caller's identity holds
    session.commit()
    return task
