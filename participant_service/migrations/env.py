from kernel.migrations import run_env
from participant_service.adapters.tables import SCHEMA

run_env(SCHEMA)
