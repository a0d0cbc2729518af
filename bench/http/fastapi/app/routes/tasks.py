from fastapi import APIRouter, Depends
from app.auth.dependencies import get_current_user
from app.models import Task

router = APIRouter()


@router.get("/api/tasks")
async def list_tasks(user: dict = Depends(get_current_user)):
    user_id = user["user_id"]
    # Query tasks filtered by user_id
    tasks = await Task.get_by_user_id(user_id)
    return tasks
