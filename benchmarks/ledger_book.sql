-- One BookSeat as event_service runs it (see event_service/adapters/ledger_repository.py and
-- kernel/unit_of_work.py): BEGIN; one call of event_service.take_seat, which claims the
-- idempotency key with the outcome, reads the snapshot (fast path), gives back the
-- occurrence's due holds, inserts the seat and moves the participant, occurrence, pool and
-- session counters with conditional UPDATEs in the fixed lock order; then one statement that
-- writes the outbox row(s) and notifies the relay; COMMIT. benchmarks/ledger.py replaces
-- :sessions and runs it with pgbench -M prepared, so every :variable is a bound parameter.
-- (The first SELECT only picks the session and fresh ids for the script: not service SQL.)
\set n random(1, :sessions)
BEGIN;
SELECT id AS sid, gen_random_uuid()::text AS pid, gen_random_uuid()::text AS rid, gen_random_uuid()::text AS seat
  FROM public.bench_sessions WHERE n = :n \gset
SELECT * FROM event_service.take_seat(:rid, 'BookSeat', 'pgbench', jsonb_build_object('seat_id', :seat::text), :seat,
                                      :sid, :pid, 'confirmed', NULL, false, 'pgbench', now(), true);
WITH written AS (
  INSERT INTO event_service.outbox (event_id, topic, message_key, event_type, envelope)
  SELECT * FROM unnest(ARRAY[gen_random_uuid()], ARRAY['turnout.ledger.v1'], ARRAY[:sid::text],
                       ARRAY['turnout.event.v1.SeatConfirmed'], ARRAY[decode(repeat('ab', 300), 'hex')]))
SELECT pg_notify('event_service_outbox', '');
COMMIT;
