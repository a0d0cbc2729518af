from typing import Optional

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPBearer, HTTPAuthorizationCredentials
from app.auth.jwt import verify_jwt_token, extract_user_from_token

# auto_error=False: HTTPBearer's own refusal of a missing or non-Bearer Authorization header
# is HTTP 403, while the design's test_list_tasks_unauthenticated expects 401; the
# dependency below answers 401 itself.
security = HTTPBearer(auto_error=False)


async def get_current_user(
    credentials: Optional[HTTPAuthorizationCredentials] = Depends(security)
) -> dict:
    """
    FastAPI dependency to extract and verify current user from JWT token.
    """
    if credentials is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Not authenticated",
            headers={"WWW-Authenticate": "Bearer"}
        )
    token = credentials.credentials
    payload = verify_jwt_token(token)
    user = extract_user_from_token(payload)
    return user
