"""the seat ledger refuses a seat in a cancelled or finished occurrence (OCCURRENCE_CLOSED)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

`event_service.take_seat(...)` gains `OUT occurrence_state` (the occurrence's lifecycle state
in the plain snapshot, or the final state that refused) and the refusal OCCURRENCE_CLOSED:
on the fast path from the snapshot, on the locked path at step 3, where the occurrence row is
now always locked (FOR NO KEY UPDATE by the UPDATE that counts distinct participants, else FOR
SHARE) and its state judged on the locked row, so no seat is taken after a cancel or finish
(an `UPDATE occurrences SET state = ...`) commits. A changed OUT signature cannot be replaced
in place: the function is dropped and created again; the downgrade restores 0003's.
"""
import importlib.util
from pathlib import Path

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SIGNATURE = ("event_service.take_seat(text, text, text, jsonb, text, text, text, text, timestamptz, boolean, text, "
             "timestamptz, boolean)")

TAKE_SEAT = r"""
CREATE FUNCTION event_service.take_seat(
    p_request_id text, p_method text, p_fingerprint text, p_outcome jsonb,
    p_seat_id text, p_session_id text, p_participant_id text, p_state text, p_expires_at timestamptz,
    p_override boolean, p_actor text, p_now timestamptz, p_fast boolean,
    OUT claimed_method text, OUT claimed_fingerprint text, OUT claimed_outcome jsonb,
    OUT session_found boolean, OUT occurrence_id text, OUT event_archived boolean, OUT starts_at timestamptz,
    OUT booking_window_days integer, OUT occurrence_state text, OUT refusals text[], OUT refusal text,
    OUT changes jsonb)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
    v record;
    k record;
    v_occ text;
    v_enforce boolean := NOT p_override;
    v_exp_ids text[] := '{}';
    v_exp_sessions text[] := '{}';
    v_exp_participants text[] := '{}';
    v_expired jsonb := '[]';
    v_live_before jsonb := '[]';
    v_live integer;
    v_taker_before integer;
    v_taker_delta integer;
    v_occ_delta integer := 0;
    v_new_participant boolean;
    v_version bigint;
    v_sessions jsonb;
    v_state text;
BEGIN
    -- The idempotency key, claimed first with the success outcome (a refusal rolls it back):
    -- a concurrent twin waits here, then answers with the committed outcome.
    IF p_request_id <> '' THEN
        INSERT INTO event_service.idempotency_keys (request_id, method, fingerprint, outcome)
            VALUES (p_request_id, p_method, p_fingerprint, p_outcome) ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            SELECT i.method, i.fingerprint, i.outcome INTO claimed_method, claimed_fingerprint, claimed_outcome
              FROM event_service.idempotency_keys i WHERE i.request_id = p_request_id;
            RETURN;
        END IF;
    END IF;

    -- One plain read (one snapshot, no locks) of everything the rules look at.
    SELECT s.occurrence_id, s.starts_at, s.booking_window_days, s.capacity, s.held, s.confirmed,
           e.status = 'archived' AS archived, e.max_sessions_per_participant AS lim,
           o.capacity AS occurrence_capacity, o.participants AS occurrence_participants, o.state AS occ_state,
           COALESCE((SELECT p.live FROM event_service.occurrence_participants p
                      WHERE p.occurrence_id = s.occurrence_id AND p.participant_id = p_participant_id), 0) AS live,
           EXISTS (SELECT 1 FROM event_service.seats x WHERE x.session_id = s.id
                      AND x.participant_id = p_participant_id AND x.state IN ('held', 'confirmed')) AS registered,
           EXISTS (SELECT 1 FROM event_service.seats x WHERE x.occurrence_id = s.occurrence_id
                      AND x.state = 'held' AND x.expires_at <= p_now) AS due_holds,
           EXISTS (SELECT 1 FROM event_service.pool_sessions ps JOIN event_service.pools pl ON pl.id = ps.pool_id
                    WHERE ps.session_id = s.id AND pl.used >= pl."limit") AS pool_full
      INTO v
      FROM event_service.sessions s
      JOIN event_service.events e ON e.id = s.event_id
      JOIN event_service.occurrences o ON o.id = s.occurrence_id
     WHERE s.id = p_session_id;
    session_found := FOUND;
    IF NOT session_found THEN
        RETURN;
    END IF;
    v_occ := v.occurrence_id;
    occurrence_id := v_occ;
    event_archived := v.archived;
    starts_at := v.starts_at;
    booking_window_days := v.booking_window_days;
    occurrence_state := v.occ_state;

    -- Fast path: a snapshot with no due hold that already refuses needs no lock. Every rule
    -- that refuses is returned (the caller applies the precedence and the session rules).
    IF p_fast AND NOT v.due_holds THEN
        refusals := array_remove(ARRAY[
            CASE WHEN v.occ_state IN ('cancelled', 'finished') THEN 'OCCURRENCE_CLOSED' END,
            CASE WHEN v.registered THEN 'ALREADY_REGISTERED' END,
            CASE WHEN v.lim IS NOT NULL AND v.live >= v.lim THEN 'LIMIT_PER_PARTICIPANT' END,
            CASE WHEN v_enforce AND v.live = 0 AND v.occurrence_participants >= v.occurrence_capacity
                 THEN 'EVENT_FULL' END,
            CASE WHEN v_enforce AND v.pool_full THEN 'POOL_FULL' END,
            CASE WHEN v_enforce AND v.held + v.confirmed >= v.capacity THEN 'SOLD_OUT' END], NULL);
        IF cardinality(refusals) > 0 THEN
            -- This transaction changes no seat; it only remembers the refusal under its
            -- request id. Losing that memory in a database crash is harmless (a retry decides
            -- again), so its commit need not wait for the disk: the hot sold-out path then
            -- costs no fsync.
            PERFORM set_config('synchronous_commit', 'off', true);
            RETURN;
        END IF;
    END IF;
    refusals := '{}';

    -- Step 1, seats: the holds of the occurrence that ran out, locked in (expires_at, id)
    -- order (the WHERE is checked again on a row a concurrent sweep changed), given back.
    SELECT COALESCE(array_agg(d.id ORDER BY d.expires_at, d.id), '{}'),
           COALESCE(array_agg(d.session_id ORDER BY d.expires_at, d.id), '{}'),
           COALESCE(array_agg(d.participant_id ORDER BY d.expires_at, d.id), '{}'),
           COALESCE(jsonb_agg(jsonb_build_array(d.id, d.session_id, d.participant_id, d.capacity_override,
                                                d.actor, d.created_at) ORDER BY d.expires_at, d.id), '[]')
      INTO v_exp_ids, v_exp_sessions, v_exp_participants, v_expired
      FROM (SELECT x.id, x.session_id, x.participant_id, x.capacity_override, x.actor, x.created_at, x.expires_at
              FROM event_service.seats x
             WHERE x.occurrence_id = v_occ AND x.state = 'held' AND x.expires_at <= p_now
             ORDER BY x.expires_at, x.id
               FOR UPDATE) d;
    IF cardinality(v_exp_ids) > 0 THEN
        UPDATE event_service.seats SET state = 'expired', expires_at = NULL, updated_at = p_now
         WHERE id = ANY (v_exp_ids);
    END IF;
    -- ... then the new seat: the partial unique index waits for a live twin to commit or roll back.
    INSERT INTO event_service.seats (id, session_id, occurrence_id, participant_id, state, expires_at,
                                     capacity_override, actor, created_at, updated_at)
        VALUES (p_seat_id, p_session_id, v_occ, p_participant_id, p_state, p_expires_at, p_override, p_actor,
                p_now, p_now)
        ON CONFLICT (session_id, participant_id) WHERE state IN ('held', 'confirmed') DO NOTHING;
    IF NOT FOUND THEN
        refusal := 'ALREADY_REGISTERED';
        -- A closed occurrence comes first in the precedence; final states never change again,
        -- so a plain read of one is the answer.
        SELECT o.state INTO v_state FROM event_service.occurrences o WHERE o.id = v_occ;
        IF v_state IN ('cancelled', 'finished') THEN
            occurrence_state := v_state;
            refusal := 'OCCURRENCE_CLOSED';
        END IF;
        RETURN;
    END IF;

    -- Step 2, occurrence_participants, by participant id.
    FOR k IN SELECT c.pid, sum(c.d)::integer AS d, bool_or(c.taker) AS taker
               FROM (SELECT unnest(v_exp_participants) AS pid, -1 AS d, false AS taker
                     UNION ALL SELECT p_participant_id, 1, true) c
              GROUP BY c.pid ORDER BY c.pid COLLATE "C" LOOP
        IF k.taker THEN
            IF v.lim IS NOT NULL AND v.lim < 1 THEN
                refusal := 'LIMIT_PER_PARTICIPANT';
                -- A closed occurrence comes first in the precedence; final states never change again,
                -- so a plain read of one is the answer.
                SELECT o.state INTO v_state FROM event_service.occurrences o WHERE o.id = v_occ;
                IF v_state IN ('cancelled', 'finished') THEN
                    occurrence_state := v_state;
                    refusal := 'OCCURRENCE_CLOSED';
                END IF;
                RETURN;
            END IF;
            IF k.d = 1 THEN  -- a plain take: insert the row or count one more, within the limit
                INSERT INTO event_service.occurrence_participants AS p (occurrence_id, participant_id, live)
                    VALUES (v_occ, k.pid, 1)
                    ON CONFLICT (occurrence_id, participant_id) DO UPDATE SET live = p.live + 1
                    WHERE v.lim IS NULL OR p.live + 1 <= v.lim
                    RETURNING p.live INTO v_live;
            ELSE  -- the same transaction also gave back due holds of this participant
                UPDATE event_service.occurrence_participants p SET live = p.live + k.d
                 WHERE p.occurrence_id = v_occ AND p.participant_id = k.pid
                   AND (v.lim IS NULL OR p.live + k.d <= v.lim)
                RETURNING p.live INTO v_live;
            END IF;
            IF v_live IS NULL THEN
                refusal := 'LIMIT_PER_PARTICIPANT';
                -- A closed occurrence comes first in the precedence; final states never change again,
                -- so a plain read of one is the answer.
                SELECT o.state INTO v_state FROM event_service.occurrences o WHERE o.id = v_occ;
                IF v_state IN ('cancelled', 'finished') THEN
                    occurrence_state := v_state;
                    refusal := 'OCCURRENCE_CLOSED';
                END IF;
                RETURN;
            END IF;
            v_live := v_live - k.d;
            v_taker_before := v_live;
            v_taker_delta := k.d;
        ELSE  -- giving seats back: lock the row, then drop it at zero or count down
            SELECT p.live INTO v_live FROM event_service.occurrence_participants p
             WHERE p.occurrence_id = v_occ AND p.participant_id = k.pid FOR UPDATE;
            IF v_live IS NULL OR v_live + k.d < 0 THEN
                RAISE EXCEPTION 'occurrence_participants (%, %) has % live seats, cannot give back %',
                    v_occ, k.pid, v_live, -k.d;
            END IF;
            IF v_live + k.d = 0 THEN
                DELETE FROM event_service.occurrence_participants p
                 WHERE p.occurrence_id = v_occ AND p.participant_id = k.pid;
            ELSE
                UPDATE event_service.occurrence_participants p SET live = p.live + k.d
                 WHERE p.occurrence_id = v_occ AND p.participant_id = k.pid;
            END IF;
        END IF;
        v_live_before := v_live_before || jsonb_build_array(jsonb_build_array(k.pid, v_live));
        v_occ_delta := v_occ_delta + (v_live + k.d > 0)::integer - (v_live > 0)::integer;
    END LOOP;
    -- New to the occurrence once its due holds are given back: its only live seat is this one.
    v_new_participant := v_taker_before + v_taker_delta = 1;

    -- Step 3, occurrences: open (not cancelled or finished) and distinct live participants
    -- (checked when this one is new). The occurrence row is always locked here, the lifecycle
    -- state judged on the locked row: FOR NO KEY UPDATE by the UPDATE that counts, else FOR
    -- SHARE, which a concurrent cancel (UPDATE ... SET state) waits for and which waits for
    -- it. So a seat is taken either before a cancel or finish commits (the cancel waits for
    -- this commit) or after it, and then it sees the state and is refused.
    IF v_occ_delta <> 0 OR (v_enforce AND v_new_participant) THEN
        UPDATE event_service.occurrences o SET participants = o.participants + v_occ_delta
         WHERE o.id = v_occ AND o.state NOT IN ('cancelled', 'finished')
           AND NOT (v_enforce AND v_new_participant AND o.participants + v_occ_delta > o.capacity)
        RETURNING o.state INTO v_state;
        IF NOT FOUND THEN
            -- Final states never change again, so a plain read of one is the answer.
            SELECT o.state INTO v_state FROM event_service.occurrences o WHERE o.id = v_occ;
            IF v_state IN ('cancelled', 'finished') THEN
                occurrence_state := v_state;
                refusal := 'OCCURRENCE_CLOSED';
            ELSE
                refusal := 'EVENT_FULL';
            END IF;
            RETURN;
        END IF;
    ELSE
        SELECT o.state INTO v_state FROM event_service.occurrences o WHERE o.id = v_occ FOR SHARE;
        IF v_state IN ('cancelled', 'finished') THEN
            occurrence_state := v_state;
            refusal := 'OCCURRENCE_CLOSED';
            RETURN;
        END IF;
    END IF;

    -- Step 4, pools, by id: live seats across each pool's sessions (the taker's are checked).
    FOR k IN SELECT ps.pool_id, sum(c.d)::integer AS d, bool_or(c.taker) AS taker
               FROM (SELECT unnest(v_exp_sessions) AS sid, -1 AS d, false AS taker
                     UNION ALL SELECT p_session_id, 1, true) c
               JOIN event_service.pool_sessions ps ON ps.session_id = c.sid
              GROUP BY ps.pool_id ORDER BY ps.pool_id COLLATE "C" LOOP
        IF v_enforce AND k.taker THEN
            UPDATE event_service.pools pl SET used = pl.used + k.d
             WHERE pl.id = k.pool_id AND pl.used + k.d <= pl."limit";
            IF NOT FOUND THEN
                refusal := 'POOL_FULL';
                RETURN;
            END IF;
        ELSIF k.d <> 0 THEN
            UPDATE event_service.pools pl SET used = pl.used + k.d WHERE pl.id = k.pool_id;
        END IF;
    END LOOP;

    -- Step 5, sessions, by id: held and confirmed seats (the taker's is checked), version.
    FOR k IN SELECT c.sid, sum(c.dh)::integer AS dh, sum(c.dc)::integer AS dc, count(*)::integer AS n,
                    bool_or(c.taker) AS taker
               FROM (SELECT unnest(v_exp_sessions) AS sid, -1 AS dh, 0 AS dc, false AS taker
                     UNION ALL SELECT p_session_id, (p_state = 'held')::integer, (p_state = 'confirmed')::integer,
                                      true) c
              GROUP BY c.sid ORDER BY c.sid COLLATE "C" LOOP
        UPDATE event_service.sessions s SET held = s.held + k.dh, confirmed = s.confirmed + k.dc,
                                            version = s.version + k.n
         WHERE s.id = k.sid
           AND (NOT (v_enforce AND k.taker) OR s.held + s.confirmed + k.dh + k.dc <= s.capacity)
        RETURNING s.version INTO v_version;
        IF NOT FOUND THEN
            IF v_enforce AND k.taker THEN
                refusal := 'SOLD_OUT';
                RETURN;
            END IF;
            RAISE EXCEPTION 'session % vanished', k.sid;
        END IF;
    END LOOP;

    -- The counts and version of every touched session after the changes (rows this
    -- transaction changed are locked by it, so they read exactly its result).
    SELECT jsonb_agg(jsonb_build_array(
               s.id, s.capacity, s.held, s.confirmed, s.occurrence_id, o.capacity, o.participants, s.version,
               COALESCE((SELECT jsonb_agg(jsonb_build_array(pl.id, pl."limit", pl.used) ORDER BY pl.id COLLATE "C")
                           FROM event_service.pool_sessions ps JOIN event_service.pools pl ON pl.id = ps.pool_id
                          WHERE ps.session_id = s.id), '[]')))
      INTO v_sessions
      FROM event_service.sessions s JOIN event_service.occurrences o ON o.id = s.occurrence_id
     WHERE s.id = ANY (v_exp_sessions || p_session_id);
    changes := jsonb_build_object('expired', v_expired, 'live_before', v_live_before, 'sessions', v_sessions);
END
$fn$
"""


def _take_seat_0003() -> str:
    """0003's function text (its module name starts with a digit: loaded from its file)."""
    spec = importlib.util.spec_from_file_location("_ledger_functions_0003",
                                                  Path(__file__).with_name("0003_ledger_functions.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TAKE_SEAT


def upgrade() -> None:
    op.execute(f"DROP FUNCTION {SIGNATURE}")
    op.execute(TAKE_SEAT)


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SIGNATURE}")
    op.execute(_take_seat_0003())
