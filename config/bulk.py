"""Inserting many rows at once: PostgreSQL's COPY where the ids are not needed back.

Django's ``bulk_create`` prepares every value through each field's chain of hooks,
which is most of the cost of a large import; COPY takes plain Python values and
adapts them in psycopg's C code. Rows go in exactly as ``bulk_create`` would write
them (the same ``pre_save`` values). With ``set_ids`` the ids are drawn from the
table's sequence first and set on the objects, so other rows can point at them.
Other databases get ``bulk_create``, which sets the ids itself.
"""

from operator import attrgetter

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
    fields, values = _row_reader(fields)
    columns = ", ".join(quote(f.column) for f in fields)
    table = quote(model._meta.db_table)
    # The raw psycopg cursor: wrap its errors as Django's (IntegrityError…).
    with connection.cursor() as cursor, connection.wrap_database_errors:
        copy_sql = f"COPY {table} ({columns}) FROM STDIN"
        with cursor.cursor.copy(copy_sql) as copy:
            for obj in objs:
                copy.write_row(values(obj))
    return len(objs)


def _row_reader(fields):
    """Return the fields in COPY order and a function giving an object's row.

    A row holds what each field's ``pre_save`` gives. Most fields' ``pre_save`` only
    reads the attribute: those come first and are read in one ``attrgetter`` call;
    the rest (auto_now dates…) go through their hook.
    """
    plain = [f for f in fields if type(f).pre_save is models.Field.pre_save]
    hooked = [f for f in fields if f not in plain]
    fields = plain + hooked
    read = attrgetter(*(f.attname for f in plain), "pk")  # "pk": always a tuple
    json_at = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]

    def row(obj):
        out = list(read(obj)[:-1])
        out += [field.pre_save(obj, True) for field in hooked]
        for i in json_at:
            if out[i] is not None:
                out[i] = Jsonb(out[i])
        return out

    return fields, row


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
