"""The command line on a PostgreSQL database, chosen as a new user would: --db, $ICP_TUI_DB or
the config file's `database`, with the password in a libpq password file, never on the command
line or in what the tool prints.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_helpers import USER, Runner, as_json, ok, user_error
from pg_helpers import DATABASE, Postgres

SECRET = "s3cret-Pw"


def test_lifecycle_on_postgresql(run: Runner, postgres_uri: str) -> None:
    def cli(*args: str) -> object:
        return run(*args, db=postgres_uri)

    assert "created an empty database at postgresql://" in ok(cli("init"))
    user_error(cli("init"), "already holds an icp-tui queue")
    added = ok(
        cli("add", "--domain", "shop.example.cn", "--entity", "杭州示例", "--province", "浙江")
    )
    filing_id = added.strip()
    for stage in ("awaiting_photo", "photo_review", "awaiting_submission", "sms_verification"):
        assert as_json(cli("advance", filing_id, "--json"))["to"] == stage
    user_error(
        cli("withdraw", filing_id, "--reason", "applicant request"),
        filing_id,
        "communications administration",
    )
    shown = as_json(cli("show", filing_id, "--json"))
    assert shown["stage"] == "sms_verification" and shown["version"] == 5
    assert [h["to"] for h in shown["history"]][-1] == "sms_verification"
    assert all(h["by"] == USER for h in shown["history"])
    assert [e["id"] for e in as_json(cli("list", "--json"))] == [filing_id]
    assert f"{filing_id}  shop.example.cn  (version 5)" in ok(cli("show", filing_id))


@pytest.fixture
def secret_role(postgres: Postgres, postgres_uri: str) -> str:
    """A role that must give its password (scram over the socket), owning the test's schema;
    returns the URI to connect as it, without the password."""
    postgres.execute(
        "DO $$ BEGIN CREATE ROLE icp_secret LOGIN; EXCEPTION WHEN duplicate_object THEN NULL;"
        " END $$"
    )
    postgres.execute(f"ALTER ROLE icp_secret PASSWORD '{SECRET}'")
    schema = postgres_uri.rpartition("%3D")[2]
    postgres.execute(f"GRANT ALL ON SCHEMA {schema} TO icp_secret", database=DATABASE)
    hba = Path(postgres.server.pgdata) / "pg_hba.conf"
    rule = "local all icp_secret scram-sha-256\n"
    if not hba.read_text().startswith(rule):
        stat = hba.stat()
        hba.write_text(rule + hba.read_text())
        os.chown(hba, stat.st_uid, stat.st_gid)
        postgres.execute("SELECT pg_reload_conf()")
    return postgres_uri.replace("postgres@", "icp_secret@")


def test_passwords_come_from_the_password_file_and_are_never_shown(
    run: Runner, secret_role: str, tmp_path: Path
) -> None:
    with_password = secret_role.replace("icp_secret@", f"icp_secret:{SECRET}@")
    # On the command line a password is refused: anyone on the server could read it.
    refused = user_error(run("list", db=with_password), "pgpass")
    assert SECRET not in refused
    # Without a password file the server refuses, and the message does not help a snooper.
    no_file = {"PGPASSFILE": str(tmp_path / "none")}
    denied = user_error(run("init", db=secret_role, env=no_file), "cannot connect")
    assert SECRET not in denied
    # With one (libpq's format), everything works and nothing prints the password.
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"*:*:*:icp_secret:{SECRET}\n")
    passfile.chmod(0o600)
    env = {"PGPASSFILE": str(passfile)}
    ok(run("init", db=secret_role, env=env))
    ok(
        run(
            "add",
            "--domain",
            "a.cn",
            "--entity",
            "E",
            "--province",
            "Beijing",
            db=secret_role,
            env=env,
        )
    )
    # $ICP_TUI_DB and the config file may hold a URI too; `config` shows it without the password.
    settings = ok(run("config", db=None, env={"ICP_TUI_DB": with_password}))
    assert SECRET not in settings and "icp_secret@" in settings and "$ICP_TUI_DB" in settings
    assert len(as_json(run("list", "--json", db=None, env={"ICP_TUI_DB": with_password}))) == 1
    config = tmp_path / "icp-tui.toml"
    config.write_text(f'database = "{secret_role}"\n')
    listed = as_json(run("--config", str(config), "list", "--json", db=None, env=env))
    assert [e["domain"] for e in listed] == ["a.cn"]


def test_migrate_both_ways_reports_one_line(run: Runner, postgres_uri: str) -> None:
    ok(run("demo", "--count", "20"))
    first = ok(run("migrate", str(run.db), postgres_uri, db=None))
    assert first.count("\n") == 1 and "copied 20 filings" in first and "identical" in first
    assert "copied 0 filings" in ok(run("migrate", str(run.db), postgres_uri, db=None))
    copy = run.cwd / "copy.json"
    assert "copied 20 filings" in ok(run("migrate", postgres_uri, str(copy), db=None))
    assert as_json(run("list", "--json", db=copy)) == as_json(run("list", "--json"))


def test_demo_report_export_and_import_work_the_same(run: Runner, postgres_uri: str) -> None:
    ok(run("demo", "--count", "20", db=postgres_uri))
    report = as_json(run("report", "--format", "json", db=postgres_uri))
    assert report and "breached" in str(report)
    exported = run.cwd / "queue.csv"
    wrote = run("export", "-o", str(exported), db=postgres_uri)
    assert wrote.returncode == 0 and "wrote 20 filings" in wrote.stderr, wrote.stderr
    again = ok(run("import", str(exported), db=postgres_uri))
    assert "imported 0 filings" in again and "20 already present" in again
