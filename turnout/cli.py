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

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Turnout: event registration and seat booking.")
console = Console(stderr=True)

DataDir = Annotated[pathlib.Path, typer.Option("--data-dir", help="Where the dev stack keeps its data and stack.json")]


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
    import os
    from datetime import timedelta

    from kernel.devstack.stack import load_stack_env

    from kernel.bootstrap import bootstrap_command_service
    from kernel.checks import check_database
    from participant_service.adapters.document_store import DocumentStore
    from participant_service.adapters.messages import to_message
    from participant_service.adapters.tables import outbox
    from participant_service.application.document_cleanup import cleanup_documents

    stack_env = load_stack_env(data_dir.resolve())
    settings = load_settings(**{name.removeprefix("TURNOUT_").lower(): value for name, value in stack_env.items()
                                if name.startswith("TURNOUT_") and name not in os.environ})
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
