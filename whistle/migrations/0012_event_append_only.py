from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION whistle_event_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % of event % refused', TG_OP, OLD.id
        USING ERRCODE = 'restrict_violation',
              HINT = 'Record a new event instead of changing or removing one.';
END;
$$
"""
TRIGGER = """
CREATE TRIGGER whistle_event_append_only
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION whistle_event_append_only()
"""
DROP = """
DROP TRIGGER IF EXISTS whistle_event_append_only ON {table};
DROP FUNCTION IF EXISTS whistle_event_append_only()
"""


def _table(apps, schema_editor) -> str:
    return schema_editor.quote_name(apps.get_model("whistle", "Event")._meta.db_table)


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # params=None: the SQL goes to the server as written, its % signs are RAISE's, not placeholders.
    schema_editor.execute(FUNCTION, params=None)
    schema_editor.execute(TRIGGER.format(table=_table(apps, schema_editor)), params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(DROP.format(table=_table(apps, schema_editor)), params=None)


class Migration(migrations.Migration):
    """The audit log cannot be changed or deleted, whoever holds a connection: PostgreSQL refuses it.

    A row trigger, so TRUNCATE (how the test runner empties the tables between tests) still
    works. SQLite, the single-machine demo's database, has no such guard: there the test
    runner empties tables with DELETE, which a trigger would refuse.
    """

    dependencies = [
        ("whistle", "0011_whistle_attributes"),
    ]

    operations = [
        migrations.RunPython(add_trigger, drop_trigger, elidable=False),
    ]
