from event_service.adapters.tables import SCHEMA
from kernel.migrations import run_env

run_env(SCHEMA)
