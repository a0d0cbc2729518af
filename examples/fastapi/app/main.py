# The original design's API backend on taskauth: FastAPI and SQLModel, with no token handling of
# its own. Run: DATABASE_URL=postgresql://... uvicorn app.main:app (README.md).
import os

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from app.routes.tasks import router as tasks_router

app = FastAPI()
app.include_router(tasks_router)

# CORS_ORIGINS: the origins (comma-separated) of a frontend that calls the API from the browser,
# such as the Next.js app's; none by default.
origins = [o.strip() for o in os.environ.get("CORS_ORIGINS", "").split(",") if o.strip()]
if origins:
    app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["*"],
                       allow_headers=["authorization", "content-type"])

# The database's refusals as HTTP answers. 28000: taskauth refused the token (bad signature,
# expired, revoked, an untrusted issuer, ...), answered as its pre_request() has PostgREST
# answer it. 23502, 23514: a task without a title, or a blank one.
STATUS = {"28000": 401, "23502": 422, "23514": 422}


@app.exception_handler(DBAPIError)
async def database_error(request: Request, exc: DBAPIError):
    code = getattr(exc.orig, "pgcode", None)
    if code not in STATUS:
        raise exc
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if code == "28000" else None
    return JSONResponse({"detail": exc.orig.diag.message_primary}, STATUS[code], headers=headers)
