"""Prints every notification request on `turnout.notifications.v1` (README, "Kafka topics").

    .venv/bin/python examples/notification_consumer.py [BOOTSTRAP]   # default: $TURNOUT_KAFKA_BOOTSTRAP

A messenger bot or a mailer starts from this: render `template_key` with `parameters` in
`locale`, deliver it to `recipient` on one of `channel_hints`, and remember `dedup_key`
durably with the delivery (the set below forgets it on restart). Other payload types on the
topic (`WaitlistOfferMade`, types added later) are skipped.
"""

import os
import sys

from kafka import KafkaConsumer

from turnout.common.v1 import envelope_pb2
from turnout.notification.v1 import notification_pb2

TOPIC = "turnout.notifications.v1"


def decode(value: bytes) -> notification_pb2.NotificationRequested | None:
    """The notification request in a record's value, or None for any other payload."""
    envelope = envelope_pb2.Envelope.FromString(value)
    request = notification_pb2.NotificationRequested()
    return request if envelope.payload.Unpack(request) else None


def main(bootstrap: str) -> None:
    consumer = KafkaConsumer(TOPIC, bootstrap_servers=bootstrap, group_id="example-notifier",
                             enable_auto_commit=False, auto_offset_reset="earliest",
                             session_timeout_ms=2000, heartbeat_interval_ms=500)  # Tansu-friendly
    delivered: set[str] = set()
    for record in consumer:
        request = decode(record.value)
        if request is not None and request.dedup_key not in delivered:
            delivered.add(request.dedup_key)
            recipient = request.participant or f"roles/{request.role}"  # == record.key
            print(recipient, request.template_key, request.locale, dict(request.parameters), flush=True)
        consumer.commit()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("TURNOUT_KAFKA_BOOTSTRAP", "127.0.0.1:9092"))
