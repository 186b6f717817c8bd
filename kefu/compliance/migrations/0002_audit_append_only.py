"""The audit log is append-only in the database too: triggers refuse UPDATE and
DELETE on its table, for raw SQL as much as for the ORM.

SQLite: the delete trigger lets rows go only while the connection says a
whole-database flush is running (the `kefu_audit_purge()` function that
`kefu.compliance.signals` registers on every connection; a connection
without it, such as the sqlite3 shell, is refused too). PostgreSQL: flush is
TRUNCATE, which these row triggers do not see.

Note for later migrations: on SQLite, an operation that rebuilds the table
(most AlterField / RemoveField) drops its triggers; run `install` again after it.
"""

from django.db import migrations

TABLE = "compliance_auditlog"


def _sqlite(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON "{table}"
        BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON "{table}"
        WHEN NOT kefu_audit_purge()
        BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END""",
    ]


def _postgresql(table: str) -> list[str]:
    return [
        f"""CREATE OR REPLACE FUNCTION {table}_refuse_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'integrity_constraint_violation';
        END
        $$""",
        f'DROP TRIGGER IF EXISTS {table}_append_only ON "{table}"',
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON "{table}"
        FOR EACH ROW EXECUTE FUNCTION {table}_refuse_change()""",
    ]


def _drop(vendor: str, table: str) -> list[str]:
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_update", f"DROP TRIGGER IF EXISTS {table}_no_delete"]
    if vendor == "postgresql":
        return [
            f'DROP TRIGGER IF EXISTS {table}_append_only ON "{table}"',
            f"DROP FUNCTION IF EXISTS {table}_refuse_change()",
        ]
    return []


def _run(schema_editor, statements: list[str]) -> None:
    for statement in statements:
        schema_editor.execute(statement, params=None)


def install(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    table = apps.get_model("compliance", "AuditLog")._meta.db_table
    if vendor == "sqlite":
        _run(schema_editor, _sqlite(table))
    elif vendor == "postgresql":
        _run(schema_editor, _postgresql(table))
    else:
        raise RuntimeError(f"no append-only triggers for the {vendor} database backend")


def uninstall(apps, schema_editor) -> None:
    table = apps.get_model("compliance", "AuditLog")._meta.db_table
    _run(schema_editor, _drop(schema_editor.connection.vendor, table))


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(install, uninstall),
    ]
