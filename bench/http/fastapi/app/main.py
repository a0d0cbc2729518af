# The original design's API backend: FastAPI, PyJWT (HS256, JWT_SECRET), SQLModel.
# Run: JWT_SECRET=... DATABASE_URL=postgresql://... uvicorn app.main:app
from fastapi import FastAPI
from app.routes.tasks import router as tasks_router

app = FastAPI()
app.include_router(tasks_router)
