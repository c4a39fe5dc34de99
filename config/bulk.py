"""Inserting many rows at once: PostgreSQL's COPY where the ids are not needed back.

Django's ``bulk_create`` prepares every value through each field's chain of hooks,
which is most of the cost of a large import; COPY takes plain Python values and
adapts them in psycopg's C code. Rows go in exactly as ``bulk_create`` would write
them (the same ``pre_save`` values). With ``set_ids`` the ids are drawn from the
table's sequence first and set on the objects, so other rows can point at them.
Other databases get ``bulk_create``, which sets the ids itself.
"""

from django.db import connections, models, router
from psycopg.types.json import Jsonb


def bulk_insert(model: type[models.Model], objs, *, set_ids: bool = False) -> int:
    """Insert the unsaved objects; return how many."""
    objs = list(objs)
    if not objs:
        return 0
    alias = router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        model.objects.using(alias).bulk_create(objs)
        return len(objs)
    pk = model._meta.pk
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    if set_ids:
        _draw_ids(connection, model, objs)
        fields.insert(0, pk)
    columns = ", ".join(quote(f.column) for f in fields)
    json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
    table = quote(model._meta.db_table)
    # The raw psycopg cursor: wrap its errors as Django's (IntegrityError…).
    with connection.cursor() as cursor, connection.wrap_database_errors:
        copy_sql = f"COPY {table} ({columns}) FROM STDIN"
        with cursor.cursor.copy(copy_sql) as copy:
            for obj in objs:
                row = []
                for field in fields:
                    value = field.pre_save(obj, True)
                    if field.attname in json_fields and value is not None:
                        value = Jsonb(value)
                    row.append(value)
                copy.write_row(row)
    return len(objs)


def _draw_ids(connection, model, objs):
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) "
            "FROM generate_series(1, %s)",
            [table, column, len(objs)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
