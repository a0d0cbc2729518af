# The database, and each request's session in it. The session runs as the login role of
# DATABASE_URL, a role given taskauth.grant_api_access, and hands the caller's bearer token to
# taskauth in the request's transaction: from then on, row-level security shows and changes
# only the caller's own tasks. Nothing here verifies a token or filters by user.
import os
from typing import Iterator, Optional

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import text
from sqlmodel import Session, create_engine

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DATABASE_URL.startswith("postgresql://"):
    raise RuntimeError("DATABASE_URL must be postgresql://ROLE:PASSWORD@HOST:PORT/DATABASE, "
                       "ROLE a role given taskauth.grant_api_access")

engine = create_engine(DATABASE_URL, pool_size=10)

# auto_error=False: HTTPBearer's own answer to a missing token is 403; get_session answers 401.
bearer = HTTPBearer(auto_error=False)


def get_session(
    credentials: Optional[HTTPAuthorizationCredentials] = Depends(bearer),
) -> Iterator[Session]:
    """A session whose transaction is the caller's: taskauth.authenticate() has verified the
    bearer token in it (a token it refuses raises SQLSTATE 28000: app.main answers 401)."""
    if credentials is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Not authenticated",
                            headers={"WWW-Authenticate": "Bearer"})
    # expire_on_commit=False: the identity ends with the transaction, so a task could not be
    # read again after its commit.
    with Session(engine, expire_on_commit=False) as session:
        session.connection().execute(text("SELECT taskauth.authenticate(:token)"),
                                     {"token": credentials.credentials})
        yield session
