# One image for every Turnout component; the command picks which one runs:
#   turnout serve event-service | participant-service | reporting-service | gateway
#                 event-relay | participant-relay | projector
#   turnout migrate
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY turnout ./turnout
COPY kernel ./kernel
COPY event_service ./event_service
COPY participant_service ./participant_service
COPY reporting_service ./reporting_service
COPY gateway ./gateway
RUN pip install .

USER nobody
# Services listen on all interfaces inside the container; ports come from TURNOUT_* settings.
ENV TURNOUT_HOST=0.0.0.0 TURNOUT_LOG_FORMAT=json
CMD ["turnout", "serve", "gateway"]
