# The database engine. The login role's search_path names the schema that holds the users and
# tasks tables (here taskauth's own tables, read by a role that bypasses row-level security).
from sqlmodel import create_engine
from app.config import settings

engine = create_engine(settings.DATABASE_URL)
