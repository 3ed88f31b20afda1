-- The database work of one CreateRegistration, statement for statement as the services run
-- it (captured from PostgreSQL's statement log of one registration; see
-- participant_service/application/registrations.py and event_service's ledger): seven
-- transactions, three of them waiting for fsync (the hold, the registration, the confirmation),
-- two with synchronous_commit off (the saga's request-id claim and clearing the owed
-- confirmation), two read-only (the participant and waitlist check, GetSession). Re-capture it
-- (log_min_duration_statement = 0 around one registration) when the saga changes. benchmarks/registrations.py replaces :sessions and :people
-- and runs it with pgbench -M prepared, so every :variable is a bound parameter; one pgbench
-- "transaction" is one whole registration. (The first SELECT only picks the session, the
-- participant and fresh ids for the script: not service SQL. Participants are drawn from
-- those without registrations; ON CONFLICT DO NOTHING on the registration only keeps a rare
-- random repeat of a (participant, session) pair from aborting the client.)
\set n random(1, :sessions)
\set p random(1, :people)
SELECT s.id AS sid, s.event_id AS eid, s.starts_at AS sat, s.ends_at AS eat, pe.id AS pid,
       gen_random_uuid()::text AS rid, gen_random_uuid()::text AS seat, gen_random_uuid()::text AS regid,
       gen_random_uuid()::text AS holdrid, gen_random_uuid()::text AS confirmrid
  FROM public.bench_sessions s, public.bench_people pe WHERE s.n = :n AND pe.n = :p \gset
-- 1. participant-service claims the request id with a lease
BEGIN;
SET LOCAL synchronous_commit = off;
INSERT INTO participant_service.idempotency_keys (request_id, method, fingerprint, outcome)
  VALUES (:rid, 'CreateRegistration', 'pgbench',
          jsonb_build_object('in_progress', jsonb_build_object('until', extract(epoch FROM now()) + 30, 'attempt', 1)))
  ON CONFLICT DO NOTHING RETURNING request_id;
COMMIT;
-- 2. participant-service: does the participant exist, does the session have a waitlist?
BEGIN;
SELECT EXISTS (SELECT * FROM participant_service.participants WHERE id = :pid) AS anon_1,
       EXISTS (SELECT * FROM participant_service.registrations
                WHERE session_id = :sid AND state IN ('waitlisted', 'offered')) AS anon_2;
ROLLBACK;
-- 3. event-service GetSession
BEGIN;
SELECT s.*, t.key AS template_key, e.title AS event_title, e.venue_id, sv.display_name AS service_display_name,
       v.display_name AS venue_display_name
  FROM event_service.sessions s JOIN event_service.session_templates t ON t.id = s.template_id
  JOIN event_service.events e ON e.id = s.event_id JOIN event_service.services sv ON sv.id = s.service_id
  JOIN event_service.venues v ON v.id = e.venue_id
 WHERE s.id = :sid;
SELECT ps.pool_id, ps.session_id FROM event_service.pool_sessions ps JOIN event_service.pools p ON p.id = ps.pool_id
 WHERE ps.session_id IN (:sid) ORDER BY p.display_name, p.id;
ROLLBACK;
-- 4. event-service HoldSeat. A refused hold (the random draw repeats a participant, who then
--    meets the event's per-participant rules) ends the registration there, as in the service:
--    nothing is recorded and nothing confirmed.
BEGIN;
SELECT (refusal IS NULL AND coalesce(cardinality(refusals), 0) = 0)::int AS held
  FROM event_service.take_seat(:holdrid, 'HoldSeat', 'pgbench', jsonb_build_object('seat_id', :seat::text),
                               :seat, :sid, :pid, 'held', now() + interval '2 minutes', false, 'pgbench',
                               now(), true) \gset
\if :held = 1
WITH written AS (
  INSERT INTO event_service.outbox (event_id, topic, message_key, event_type, envelope)
  SELECT * FROM unnest(ARRAY[gen_random_uuid()], ARRAY['turnout.ledger.v1'], ARRAY[:sid::text],
                       ARRAY['turnout.event.v1.SeatHeld'], ARRAY[decode(repeat('ab', 600), 'hex')]))
SELECT pg_notify('event_service_outbox', '');
COMMIT;
-- 5. participant-service records the registration, its outcome and its outbox events (the
--    registration and the admins' registration.created.admin notification request)
BEGIN;
INSERT INTO participant_service.registrations (id, participant_id, session_id, event_id, session_starts_at,
                                               session_ends_at, state, seat_id, seat_sync, registered_by,
                                               created_at, updated_at)
  VALUES (:regid, :pid, :sid, :eid, :sat, :eat, 'confirmed', :seat, 'confirm', 'pgbench', now(), now())
  ON CONFLICT DO NOTHING;
UPDATE participant_service.idempotency_keys SET outcome = jsonb_build_object('registration_id', :regid::text)
 WHERE request_id = :rid AND CAST((outcome -> 'in_progress' ->> 'attempt') AS INTEGER) = 1 RETURNING request_id;
WITH written AS (
  INSERT INTO participant_service.outbox (event_id, topic, message_key, event_type, envelope)
  SELECT * FROM unnest(ARRAY[gen_random_uuid(), gen_random_uuid()],
                       ARRAY['turnout.participants.v1', 'turnout.notifications.v1'], ARRAY[:pid::text, 'roles/admin'],
                       ARRAY['turnout.participant.v1.RegistrationCreated', 'turnout.notification.v1.NotificationRequested'],
                       ARRAY[decode(repeat('ab', 500), 'hex'), decode(repeat('ab', 250), 'hex')]))
SELECT pg_notify('participant_service_outbox', '');
COMMIT;
-- 6. event-service ConfirmSeat
BEGIN;
INSERT INTO event_service.idempotency_keys (request_id, method, fingerprint, outcome)
  VALUES (:confirmrid, 'ConfirmSeat', 'pgbench', '{}') ON CONFLICT DO NOTHING RETURNING request_id;
SELECT * FROM event_service.seats WHERE id = :seat FOR UPDATE;
UPDATE event_service.seats SET state = 'confirmed', expires_at = NULL, updated_at = now() WHERE id = :seat;
SELECT session_id, pool_id FROM event_service.pool_sessions WHERE session_id IN (:sid) ORDER BY pool_id;
UPDATE event_service.sessions SET held = held - 1, confirmed = confirmed + 1, version = version + 1
 WHERE id = :sid RETURNING version;
SELECT s.id, s.capacity, s.held, s.confirmed, s.occurrence_id, o.capacity AS occurrence_capacity, o.participants
  FROM event_service.sessions s JOIN event_service.occurrences o ON o.id = s.occurrence_id WHERE s.id IN (:sid);
UPDATE event_service.idempotency_keys SET outcome = jsonb_build_object('seat_id', :seat::text)
 WHERE request_id = :confirmrid;
WITH written AS (
  INSERT INTO event_service.outbox (event_id, topic, message_key, event_type, envelope)
  SELECT * FROM unnest(ARRAY[gen_random_uuid()], ARRAY['turnout.ledger.v1'], ARRAY[:sid::text],
                       ARRAY['turnout.event.v1.SeatConfirmed'], ARRAY[decode(repeat('ab', 600), 'hex')]))
SELECT pg_notify('event_service_outbox', '');
COMMIT;
-- 7. participant-service clears the owed confirmation
BEGIN;
SET LOCAL synchronous_commit = off;
UPDATE participant_service.registrations SET seat_sync = NULL WHERE id = :regid AND seat_sync = 'confirm';
COMMIT;
\else
ROLLBACK;
\endif
