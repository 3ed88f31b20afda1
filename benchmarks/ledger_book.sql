-- One BookSeat as event_service runs it (see event_service/adapters/ledger_repository.py):
-- claim the idempotency key, read the snapshot, insert the seat, count the participant,
-- the occurrence and the session with conditional UPDATEs, write the outbox row, notify the
-- relay, record the outcome. benchmarks/ledger.py replaces :sessions and runs it with
-- pgbench -M prepared, so every :variable is a bound parameter.
\set n random(1, :sessions)
BEGIN;
SELECT id AS sid, occurrence_id AS oid, gen_random_uuid()::text AS pid, gen_random_uuid()::text AS rid,
       gen_random_uuid()::text AS seat
  FROM public.bench_sessions WHERE n = :n \gset
INSERT INTO event_service.idempotency_keys (request_id, method, fingerprint, outcome)
  VALUES (:rid, 'BookSeat', 'pgbench', '{}') ON CONFLICT DO NOTHING RETURNING request_id;
SELECT s.capacity, s.held, s.confirmed, e.status, e.max_sessions_per_participant, o.capacity, o.participants,
       (SELECT live FROM event_service.occurrence_participants p WHERE p.occurrence_id = s.occurrence_id AND p.participant_id = :pid),
       EXISTS (SELECT 1 FROM event_service.seats x WHERE x.session_id = s.id AND x.participant_id = :pid AND x.state IN ('held', 'confirmed'))
  FROM event_service.sessions s JOIN event_service.events e ON e.id = s.event_id
  JOIN event_service.occurrences o ON o.id = s.occurrence_id WHERE s.id = :sid;
INSERT INTO event_service.seats (id, session_id, occurrence_id, participant_id, state, expires_at, capacity_override,
                                 actor, created_at, updated_at)
  VALUES (:seat, :sid, :oid, :pid, 'confirmed', NULL, false, 'pgbench', now(), now())
  ON CONFLICT (session_id, participant_id) WHERE state IN ('held', 'confirmed') DO NOTHING RETURNING id;
INSERT INTO event_service.occurrence_participants (occurrence_id, participant_id, live) VALUES (:oid, :pid, 1)
  ON CONFLICT (occurrence_id, participant_id) DO UPDATE SET live = event_service.occurrence_participants.live + 1
  RETURNING live;
UPDATE event_service.occurrences SET participants = participants + 1
  WHERE id = :oid AND participants + 1 <= capacity RETURNING id;
SELECT session_id, pool_id FROM event_service.pool_sessions WHERE session_id = :sid ORDER BY pool_id;
UPDATE event_service.sessions SET held = held + 0, confirmed = confirmed + 1, version = version + 1
  WHERE id = :sid AND held + confirmed + 1 <= capacity RETURNING version;
SELECT s.id, s.capacity, s.held, s.confirmed, s.occurrence_id, o.capacity, o.participants
  FROM event_service.sessions s JOIN event_service.occurrences o ON o.id = s.occurrence_id WHERE s.id = :sid;
INSERT INTO event_service.outbox (event_id, topic, message_key, event_type, envelope)
  VALUES (gen_random_uuid(), 'turnout.ledger.v1', :sid, 'turnout.event.v1.SeatConfirmed', decode(repeat('ab', 300), 'hex'));
SELECT pg_notify('event_service_outbox', '');
UPDATE event_service.idempotency_keys SET outcome = jsonb_build_object('seat_id', :seat::text) WHERE request_id = :rid;
COMMIT;
