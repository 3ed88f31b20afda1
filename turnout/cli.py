"""The `turnout` command: run the local stack, serve one component, migrate, issue tokens.

Imports of the services happen inside the commands, so `turnout --help` stays fast and each
child process loads only the component it runs.
"""

from __future__ import annotations

import asyncio
import pathlib
import signal
import sys
import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kernel.settings import SettingsError, load_settings

# Every call to a service has a deadline: a hung service must not hang the command.
CALL_DEADLINE_SECONDS = 30.0

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Turnout: event registration and seat booking.")
console = Console(stderr=True)

DataDir = Annotated[pathlib.Path, typer.Option("--data-dir", help="Where the dev stack keeps its data and stack.json")]


def stack_settings(data_dir: pathlib.Path):  # type: ignore[no-untyped-def]
    """Settings from the environment, and for whatever it leaves unset, from a running
    `turnout dev` in `data_dir` (its stack.json), so commands attach to it by default."""
    import os

    from kernel.devstack.stack import load_stack_env

    stack_env = load_stack_env(data_dir.resolve())
    return load_settings(**{name.removeprefix("TURNOUT_").lower(): value for name, value in stack_env.items()
                            if name.startswith("TURNOUT_") and name not in os.environ})


@app.command()
def dev(
    data_dir: DataDir = pathlib.Path(".turnout"),
    check: Annotated[bool, typer.Option("--check", help="Boot, verify every component and one event end to end, stop")] = False,
    durable: Annotated[bool, typer.Option(help="fsync on; --no-durable trades crash safety for speed")] = True,
) -> None:
    """Run the whole system locally on embedded PostgreSQL, Redis and Kafka (Tansu)."""
    from kernel.auth import issue_token
    from kernel.devstack.dev import boot, end_to_end_check, seed_demo_data, wait_for_exit

    settings = load_settings()
    stack, timings = boot(data_dir.resolve(), gateway_port=settings.gateway_port, durable=durable)
    try:
        admin_token = issue_token(stack.auth_secret, sub="dev-admin", roles=["admin"])
        if check:
            began = time.perf_counter()
            end_to_end_check(stack, admin_token)
            timings["end-to-end"] = time.perf_counter() - began
            _print_summary(stack, timings)
            return
        seed_demo_data(stack, admin_token)
        _print_summary(stack, timings)
        console.print(f"\nadmin token (8 h):\n[bold]{admin_token}[/bold]\n")
        console.print(f"stack.json: {stack.data_dir / 'stack.json'}    logs: {stack.data_dir / 'logs'}")
        console.print("Ctrl-C stops everything.")
        wait_for_exit(stack)
    finally:
        stack.stop()


def _print_summary(stack, timings: dict[str, float]) -> None:
    table = Table(title="turnout dev", show_lines=False)
    table.add_column("component")
    table.add_column("state")
    table.add_column("address")
    table.add_column("ready after", justify="right")
    urls = stack.urls()
    for name, seconds in timings.items():
        table.add_row(name, "[green]ok[/green]", urls.get(name) or urls.get(f"{name}-metrics", ""), f"{seconds:.2f}s")
    table.add_row("docs", "", urls["docs"], "")
    Console().print(table)


@app.command()
def serve(component: Annotated[str, typer.Argument(help="event-service | participant-service | reporting-service | gateway | event-relay | participant-relay | projector")]) -> None:
    """Run one component in the foreground (what each container runs)."""
    # main() restores SIGPIPE's default for piped commands; a server must instead survive a
    # client hanging up while it writes (found killed by SIGPIPE, tests/e2e/test_faults.py).
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    settings = load_settings()
    if component == "event-service":
        from event_service.main import serve as run
        asyncio.run(run(settings))
    elif component == "participant-service":
        from participant_service.main import serve as run
        asyncio.run(run(settings))
    elif component == "reporting-service":
        from reporting_service.main import serve as run
        asyncio.run(run(settings))
    elif component == "event-relay":
        from event_service.main import relay
        asyncio.run(relay(settings))
    elif component == "participant-relay":
        from participant_service.main import relay
        asyncio.run(relay(settings))
    elif component == "projector":
        from reporting_service.main import project
        project(settings)
    elif component == "gateway":
        from gateway.main import serve as run_gateway
        run_gateway(settings)
    else:
        raise typer.BadParameter(f"unknown component {component!r}", param_hint="COMPONENT")


@app.command()
def migrate() -> None:
    """Apply every service's Alembic migrations to TURNOUT_DATABASE_URL."""
    from kernel.checks import check_database
    from kernel.migrations import upgrade_all

    settings = load_settings()
    asyncio.run(check_database(settings))
    upgrade_all(settings.database_url)
    console.print("migrations applied")


@app.command()
def token(
    role: Annotated[list[str], typer.Option("--role", help="admin, volunteer, analyst, participant, service")],
    sub: Annotated[str, typer.Option(help="Subject (who the token speaks for)")] = "cli",
    participant_id: Annotated[str | None, typer.Option(help="For the participant role")] = None,
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds")] = 8 * 3600,
    data_dir: DataDir = pathlib.Path(".turnout"),
) -> None:
    """Print a bearer token signed with TURNOUT_AUTH_SECRET (or the running dev stack's)."""
    from kernel.auth import issue_token
    from kernel.devstack.stack import load_stack_env

    settings = load_settings()
    secret = settings.auth_secret or load_stack_env(data_dir.resolve()).get("TURNOUT_AUTH_SECRET", "")
    if not secret:
        raise SettingsError("TURNOUT_AUTH_SECRET is not set and no dev stack is running in " + str(data_dir))
    print(issue_token(secret, sub=sub, roles=role, participant_id=participant_id, ttl_seconds=ttl))


documents_app = typer.Typer(no_args_is_help=True, help="Uploaded documents of the staged sign-up.")
app.add_typer(documents_app, name="documents")


@documents_app.command("cleanup")
def documents_cleanup(
    older_than_hours: Annotated[float | None, typer.Option(
        min=0.0, help="Age threshold; default TURNOUT_DOCUMENT_CLEANUP_AGE_HOURS (48)")] = None,
    data_dir: DataDir = pathlib.Path(".turnout"),
) -> None:
    """Delete files in TURNOUT_DOCUMENT_DIR older than the threshold that no document row references; print counts.

    Settings not in the environment come from a running `turnout dev` in --data-dir."""
    from datetime import timedelta

    from kernel.bootstrap import bootstrap_command_service
    from kernel.checks import check_database
    from participant_service.adapters.document_store import DocumentStore
    from participant_service.adapters.messages import to_message
    from participant_service.adapters.tables import outbox
    from participant_service.application.document_cleanup import cleanup_documents

    settings = stack_settings(data_dir)
    hours = settings.document_cleanup_age_hours if older_than_hours is None else older_than_hours

    async def run():  # type: ignore[no-untyped-def]
        await check_database(settings)
        deps = bootstrap_command_service(settings, outbox, to_message)
        try:
            return await cleanup_documents(DocumentStore(settings.document_dir), deps.uow_factory,
                                           max_age=timedelta(hours=hours))
        finally:
            await deps.engine.dispose()

    report = asyncio.run(run())
    table = Table(title=f"document cleanup in {settings.document_dir} (older than {hours:g} h)")
    for column in ("scanned", "deleted", "kept_referenced", "kept_young"):
        table.add_column(column, justify="right")
    table.add_row(*(str(getattr(report, c)) for c in ("scanned", "deleted", "kept_referenced", "kept_young")))
    Console().print(table)


@app.command()
def stats(
    event: Annotated[str | None, typer.Option(help="An event id: its registrations by session, service and venue")] = None,
    data_dir: DataDir = pathlib.Path(".turnout"),
) -> None:
    """Print what the projector has applied, or one event's registration stats, from the read models."""
    import redis.asyncio as aioredis

    from reporting_service.generations import active_keyspace
    from reporting_service.read_models import ReadModels
    from reporting_service.stats import StatsReader

    settings = stack_settings(data_dir)

    async def run():  # type: ignore[no-untyped-def]
        client = aioredis.from_url(settings.redis_url, decode_responses=True)
        try:
            keys = await active_keyspace(client)
            if event is None:
                return await ReadModels(client, keys).totals()
            return await StatsReader(client, keys).event(event)
        finally:
            await client.aclose()

    console = Console()
    answer = asyncio.run(run())
    if event is None:
        table = Table(title="read models")
        for column in ("applied events", "skipped duplicates", "venues", "participants"):
            table.add_column(column, justify="right")
        table.add_row(*(str(v) for v in (answer.applied_events, answer.skipped_duplicates, answer.venue_count,
                                          answer.participant_count)))
        console.print(table)
        return
    if answer is None:
        console.print(f"no stats for event {event} (unknown, or not projected yet)")
        raise typer.Exit(1)
    table = Table(title=f"event {event}")
    for column in ("session", "service", "venue", "registered", "waitlisted", "cancelled", "attended", "no show",
                   "capacity", "seats left"):
        table.add_column(column, justify="right" if column not in ("session", "service", "venue") else "left")
    for s in answer.sessions:
        c = s.counts
        table.add_row(s.session_id, s.service_id, s.venue_id, str(c.registered), str(c.by_state["waitlisted"]),
                      str(c.by_state["cancelled"]), str(c.by_attendance["attended"]),
                      str(c.by_attendance["no_show"]), str(s.capacity), str(s.seats_left))
    t = answer.totals
    table.add_row("total", "", "", str(t.counts.registered), str(t.counts.by_state["waitlisted"]),
                  str(t.counts.by_state["cancelled"]), str(t.counts.by_attendance["attended"]),
                  str(t.counts.by_attendance["no_show"]), str(t.capacity), str(t.seats_left))
    console.print(table)


@app.command()
def check(data_dir: DataDir = pathlib.Path(".turnout")) -> None:
    """Compare the read models with the command side; print every difference by key.

    Exits 1 when anything differs. Settings not in the environment come from a running
    `turnout dev` in --data-dir."""
    import redis.asyncio as aioredis

    from reporting_service.consistency import ConsistencyChecker
    from reporting_service.generations import active_keyspace

    settings = stack_settings(data_dir)

    async def run():  # type: ignore[no-untyped-def]
        client = aioredis.from_url(settings.redis_url, decode_responses=True)
        try:
            return await ConsistencyChecker(settings.asyncpg_dsn, client, await active_keyspace(client)).check()
        finally:
            await client.aclose()

    console = Console()
    with console.status("comparing read models with the command side"):
        report = asyncio.run(run())
    if not report.mismatches:
        console.print(f"consistent: {report.checked} sessions, occurrences and pools compared, no difference")
        return
    table = Table(title=f"{len(report.mismatches)} differences ({report.checked} compared)")
    for column in ("key", "field", "read model", "command side"):
        table.add_column(column)
    for m in report.mismatches:
        table.add_row(m.key, m.field, "missing" if m.read_model is None else str(m.read_model), str(m.command_side))
    console.print(table)
    raise typer.Exit(1)


@app.command()
def rebuild(
    source: Annotated[str, typer.Option(help="auto: the topics, then the command side's outbox when they no longer "
                                             "hold everything; topics; or outbox")] = "auto",
    data_dir: DataDir = pathlib.Path(".turnout"),
) -> None:
    """Rebuild every read model from scratch, aside, and swap it in whole.

    reporting-service does the work; this starts it and follows it with a progress bar. Exits 1
    if it fails (readers then keep the current read models)."""
    import grpc
    from rich import progress as bars

    from turnout.reporting.v1 import reporting_service_pb2 as pb
    from turnout.reporting.v1.reporting_service_pb2_grpc import ReportingServiceStub

    sources = {"auto": pb.REBUILD_SOURCE_AUTO, "topics": pb.REBUILD_SOURCE_TOPICS, "outbox": pb.REBUILD_SOURCE_OUTBOX}
    if source not in sources:
        raise typer.BadParameter("must be auto, topics or outbox", param_hint="--source")
    console = Console()
    channel = _reporting_channel(data_dir)
    stub = ReportingServiceStub(channel)
    try:
        with channel, bars.Progress(
                bars.TextColumn("[bold]{task.description}"), bars.BarColumn(), bars.MofNCompleteColumn(),
                bars.TextColumn("aggregates, {task.fields[replayed]} messages read"), bars.TimeElapsedColumn(),
                console=console) as progress:
            rebuild_job = stub.StartRebuild(pb.StartRebuildRequest(source=sources[source]),
                                            metadata=_caller("cli", "admin"), timeout=CALL_DEADLINE_SECONDS)
            task = progress.add_task(rebuild_job.phase, total=None, replayed=0)
            while rebuild_job.state == pb.REBUILD_STATE_RUNNING:
                time.sleep(0.5)
                rebuild_job = stub.GetRebuild(pb.GetRebuildRequest(name=rebuild_job.name),
                                              metadata=_caller("cli", "admin"), timeout=CALL_DEADLINE_SECONDS)
                progress.update(task, description=rebuild_job.phase, total=rebuild_job.target or None,
                                completed=rebuild_job.covered, replayed=rebuild_job.replayed)
    except grpc.RpcError as error:
        _rpc_failed(error)
    used = pb.RebuildSource.Name(rebuild_job.used_source).removeprefix("REBUILD_SOURCE_").lower()
    if rebuild_job.state != pb.REBUILD_STATE_SUCCEEDED:
        console.print(f"[red]rebuild failed[/red]: {rebuild_job.error} (the read models were left as they were)")
        raise typer.Exit(1)
    console.print(f"rebuilt from the {used}: {rebuild_job.covered} aggregates, {rebuild_job.replayed} messages; "
                  f"now serving {rebuild_job.generation} (was {rebuild_job.previous_generation})")


export_app = typer.Typer(no_args_is_help=True, help="Exports of the registrations read model (reporting-service).")
app.add_typer(export_app, name="export")

Fields = Annotated[str | None, typer.Option("--fields", help="Comma-separated: event_title, service, session_date, "
                                            "session_time, venue, participant_name, card_number, phone, attendance, "
                                            "state, registered_at, registered_by, comment (the default); "
                                            "also reconfirmation (opt-in)")]
ServiceOpt = Annotated[str | None, typer.Option("--service", help="Service id")]
VenueOpt = Annotated[str | None, typer.Option("--venue", help="Venue id")]
AttendanceOpt = Annotated[str | None, typer.Option("--attendance", help="expected, attended or no_show")]
StateOpt = Annotated[str | None, typer.Option("--state", help="Comma-separated registration states")]
EventFrom = Annotated[str | None, typer.Option("--event-from", help="Sessions on or after this date (YYYY-MM-DD)")]
EventTo = Annotated[str | None, typer.Option("--event-to", help="Sessions on or before this date")]
RegisteredFrom = Annotated[str | None, typer.Option("--registered-from", help="ISO date-time (UTC unless offset)")]
RegisteredTo = Annotated[str | None, typer.Option("--registered-to", help="ISO date-time, exclusive")]
RoleOpt = Annotated[str, typer.Option("--role", help="Role to act as: admin sees phones in full, analyst masked")]


def _reporting_channel(data_dir: pathlib.Path):  # type: ignore[no-untyped-def]
    """A channel to reporting-service (TURNOUT_* settings, else a running `turnout dev` in
    data_dir)."""
    import os

    from kernel.devstack.stack import load_stack_env
    from kernel.grpc_client import blocking_channel

    stack_env = load_stack_env(data_dir.resolve())
    settings = load_settings(**{name.removeprefix("TURNOUT_").lower(): value for name, value in stack_env.items()
                                if name.startswith("TURNOUT_") and name not in os.environ})
    return blocking_channel(settings.target("reporting"))


def _caller(sub: str, role: str) -> tuple[tuple[str, str], ...]:
    """The metadata that says who asks."""
    import uuid

    return (("x-request-id", str(uuid.uuid4())), ("x-turnout-actor", sub), ("x-turnout-roles", role))


def _export_stub(data_dir: pathlib.Path, sub: str, role: str):  # type: ignore[no-untyped-def]
    """An ExportService stub on reporting-service and the metadata that says who asks."""
    from turnout.reporting.v1.export_service_pb2_grpc import ExportServiceStub

    channel = _reporting_channel(data_dir)
    return ExportServiceStub(channel), _caller(sub, role), channel


def _export_filter(service, venue, attendance, state, event_from, event_to, registered_from, registered_to):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from turnout.reporting.v1 import export_service_pb2 as pb

    message = pb.RegistrationFilter(service_id=service or "", venue_id=venue or "", attendance=attendance or "",
                                    event_from=event_from or "", event_to=event_to or "",
                                    states=[s for s in (state or "").split(",") if s])
    for name, value in (("registered_from", registered_from), ("registered_to", registered_to)):
        if value:
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                raise typer.BadParameter(f"not an ISO date-time: {value!r}", param_hint=f"--{name.replace('_', '-')}") from None
            getattr(message, name).FromDatetime(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return message


def _rpc_failed(error) -> None:  # type: ignore[no-untyped-def]
    print(f"turnout: {error.code().name}: {error.details()}", file=sys.stderr)
    raise typer.Exit(1)


@export_app.command("registrations")
def export_registrations(
    output: Annotated[pathlib.Path, typer.Option("--output", "-o", help="File to write")],
    fmt: Annotated[str, typer.Option("--format", help="csv, xlsx or html")] = "csv",
    fields: Fields = None,
    template: Annotated[str | None, typer.Option("--template", help="A saved template's id")] = None,
    service: ServiceOpt = None, venue: VenueOpt = None, attendance: AttendanceOpt = None, state: StateOpt = None,
    event_from: EventFrom = None, event_to: EventTo = None,
    registered_from: RegisteredFrom = None, registered_to: RegisteredTo = None,
    preview: Annotated[int, typer.Option("--preview", min=0, help="Only the first N rows (0: all)")] = 0,
    role: RoleOpt = "analyst",
    sub: Annotated[str, typer.Option(help="Who asks (written to the audit trail)")] = "cli",
    data_dir: DataDir = pathlib.Path(".turnout"),
) -> None:
    """Stream the registrations into a file, with a progress bar of the rows written."""
    import grpc
    from rich import progress as bars

    from turnout.reporting.v1 import export_service_pb2 as pb

    formats = {"csv": pb.EXPORT_FORMAT_CSV, "xlsx": pb.EXPORT_FORMAT_XLSX, "html": pb.EXPORT_FORMAT_HTML}
    if fmt not in formats:
        raise typer.BadParameter("must be csv, xlsx or html", param_hint="--format")
    request = pb.ExportRegistrationsRequest(
        format=formats[fmt], fields=[f for f in (fields or "").split(",") if f], max_rows=preview,
        template=f"exportTemplates/{template}" if template else "",
        filter=_export_filter(service, venue, attendance, state, event_from, event_to, registered_from, registered_to))
    from kernel import grpc_client

    stub, metadata, channel = _export_stub(data_dir, sub, role)
    partial = output.with_name(output.name + ".part")
    rows = 0
    try:
        with channel, partial.open("wb") as sink, bars.Progress(
                bars.TextColumn("[bold]export"), bars.BarColumn(), bars.MofNCompleteColumn(), bars.TextColumn("rows"),
                bars.TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task("rows", total=None)
            for chunk in stub.ExportRegistrations(request, metadata=metadata,
                                                  timeout=grpc_client.EXPORT_DEADLINE_SECONDS):
                if chunk.estimated_rows:
                    progress.update(task, total=chunk.estimated_rows)
                sink.write(chunk.data)
                rows = chunk.rows
                progress.update(task, completed=rows)
            progress.update(task, total=rows, completed=rows)
    except grpc.RpcError as error:
        partial.unlink(missing_ok=True)
        _rpc_failed(error)
    partial.replace(output)
    console.print(f"{rows} rows written to {output}")


@export_app.command("templates")
def export_templates(role: RoleOpt = "analyst", data_dir: DataDir = pathlib.Path(".turnout")) -> None:
    """List the saved export templates."""
    import grpc

    from turnout.reporting.v1 import export_service_pb2 as pb

    stub, metadata, channel = _export_stub(data_dir, "cli", role)
    with channel:
        try:
            answer = stub.ListExportTemplates(pb.ListExportTemplatesRequest(), metadata=metadata,
                                              timeout=CALL_DEADLINE_SECONDS)
        except grpc.RpcError as error:
            _rpc_failed(error)
    table = Table(title="export templates")
    for column in ("template", "fields", "filter"):
        table.add_column(column)
    for t in answer.templates:
        filters = ", ".join(f"{d.name}={v}" for d, v in t.filter.ListFields())
        table.add_row(t.name.removeprefix("exportTemplates/"), ",".join(t.fields), filters)
    Console().print(table)


@export_app.command("save-template")
def export_save_template(
    template_id: Annotated[str, typer.Argument(help="a-z, 0-9, '-' and '_'")],
    fields: Fields = None,
    service: ServiceOpt = None, venue: VenueOpt = None, attendance: AttendanceOpt = None, state: StateOpt = None,
    event_from: EventFrom = None, event_to: EventTo = None,
    registered_from: RegisteredFrom = None, registered_to: RegisteredTo = None,
    role: RoleOpt = "analyst", sub: Annotated[str, typer.Option(help="Who saves it")] = "cli",
    data_dir: DataDir = pathlib.Path(".turnout"),
) -> None:
    """Save (create or replace) a named set of fields and filters."""
    import grpc

    from turnout.reporting.v1 import export_service_pb2 as pb

    template = pb.ExportTemplate(
        name=f"exportTemplates/{template_id}", fields=[f for f in (fields or "").split(",") if f],
        filter=_export_filter(service, venue, attendance, state, event_from, event_to, registered_from, registered_to))
    stub, metadata, channel = _export_stub(data_dir, sub, role)
    with channel:
        try:
            stub.CreateExportTemplate(pb.CreateExportTemplateRequest(template_id=template_id, template=template),
                                      metadata=metadata, timeout=CALL_DEADLINE_SECONDS)
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.ALREADY_EXISTS:
                _rpc_failed(error)
            try:
                stub.UpdateExportTemplate(pb.UpdateExportTemplateRequest(template=template), metadata=metadata,
                                          timeout=CALL_DEADLINE_SECONDS)
            except grpc.RpcError as again:
                _rpc_failed(again)
    console.print(f"template {template_id} saved")


@export_app.command("delete-template")
def export_delete_template(template_id: str, role: RoleOpt = "analyst",
                           data_dir: DataDir = pathlib.Path(".turnout")) -> None:
    """Delete a saved export template."""
    import grpc

    from turnout.reporting.v1 import export_service_pb2 as pb

    stub, metadata, channel = _export_stub(data_dir, "cli", role)
    with channel:
        try:
            stub.DeleteExportTemplate(pb.DeleteExportTemplateRequest(name=f"exportTemplates/{template_id}"),
                                      metadata=metadata, timeout=CALL_DEADLINE_SECONDS)
        except grpc.RpcError as error:
            _rpc_failed(error)
    console.print(f"template {template_id} deleted")


def main() -> None:
    # SIGPIPE default: `turnout token | head` must not print a traceback.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except SettingsError as error:
        # Plain print: a rich console would wrap the one line at the terminal width.
        print(f"turnout: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
