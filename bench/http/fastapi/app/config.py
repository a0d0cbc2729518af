# The backend's settings, from the environment (or a .env file), as the design has them.
# pydantic 1 (Debian 12) keeps BaseSettings in pydantic itself; pydantic 2 moved it to
# the pydantic_settings package.
try:
    from pydantic_settings import BaseSettings
except ImportError:
    from pydantic import BaseSettings


class Settings(BaseSettings):
    JWT_SECRET: str
    DATABASE_URL: str

    class Config:
        env_file = ".env"


settings = Settings()
