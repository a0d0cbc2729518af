# The database engine. The login role's search_path names the schema that holds the users and
# tasks tables (here taskauth's own tables, read by a role that bypasses row-level security).
# pool_size=10: as many connections as PostGraphile's pool keeps (with SQLAlchemy's default of
# 5, connections are opened and closed whenever more than 5 requests query at once).
from sqlmodel import create_engine
from app.config import settings

engine = create_engine(settings.DATABASE_URL, pool_size=10)
