# migsafe's Django renderer: run by the project's own Python as
#   python -c <this> <project root (manage.py's folder)> <migrations folder> <server_version_num>
# It loads the project's settings and apps, builds the migration plan the way
# `showmigrations --plan` does, and collects each migration's SQL forwards and backwards the
# way `sqlmigrate [--backwards]` does, but with no database connection at all:
#   - every DATABASES alias is replaced by a PostgreSQL one on the reserved `.invalid` domain;
#   - the loader is built without a connection (no django_migrations read);
#   - the schema editor only collects SQL, and the server version it would ask the server for
#     is given (migsafe.toml `[python] server_version`).
# Each operation's SQL is preceded by a `-- migsafe:op <index>` marker, and deferred SQL
# (foreign keys, indexes Django adds at the end) by the marker of the operation that queued it.
# It prints one JSON document on stdout.
import ast
import json
import os
import re
import sys
import traceback

PLACEHOLDER_HOST = "migsafe-render.invalid"


def fail(message, code=3):
    sys.stderr.write("migsafe: " + message + "\n")
    sys.exit(code)


def settings_module(root):
    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        return os.environ["DJANGO_SETTINGS_MODULE"]
    try:
        text = open(os.path.join(root, "manage.py"), encoding="utf-8").read()
    except OSError:
        return None
    m = re.search(r"""DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([^'"]+)['"]""", text)
    return m.group(1) if m else None


def quote(value):
    try:
        from psycopg import sql as psql

        return psql.quote(value)
    except ImportError:
        from psycopg2.extensions import adapt

        return adapt(value).getquoted().decode()


def offline_compose(sql, params):
    if params is None:
        return sql
    if isinstance(params, dict):
        return sql % {k: quote(v) for k, v in params.items()}
    return sql % tuple(quote(v) for v in params)


def op_lines(path):
    """Line of each element of `operations = [...]` in the Migration class, and of the class."""
    try:
        tree = ast.parse(open(path, encoding="utf-8").read())
    except Exception:
        return None, []
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Migration":
            for stmt in node.body:
                targets = []
                if isinstance(stmt, ast.Assign):
                    targets = stmt.targets
                elif isinstance(stmt, ast.AnnAssign):
                    targets = [stmt.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                if "operations" in names and isinstance(stmt.value, (ast.List, ast.Tuple)):
                    return node.lineno, [e.lineno for e in stmt.value.elts]
            return node.lineno, []
    return None, []


def main():
    root, folder, server_version = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sys.path.insert(0, root)
    module = settings_module(root)
    if not module:
        fail("no DJANGO_SETTINGS_MODULE: set it, or keep manage.py's "
             "os.environ.setdefault('DJANGO_SETTINGS_MODULE', ...) line")
    os.environ["DJANGO_SETTINGS_MODULE"] = module
    try:
        import django
    except ImportError as e:
        fail("cannot import django with %s: %s" % (sys.executable, e))
    from django.conf import settings

    try:
        databases = settings.DATABASES
    except Exception:
        fail("the settings module %s failed to load:\n%s" % (module, traceback.format_exc(limit=6)))
    for alias in list(databases):
        engine = databases[alias].get("ENGINE", "")
        if "postgis" not in engine:
            engine = "django.db.backends.postgresql"
        databases[alias] = {
            "ENGINE": engine,
            "NAME": "migsafe",
            "USER": "migsafe",
            "PASSWORD": "",
            "HOST": PLACEHOLDER_HOST,
            "PORT": "5432",
            "OPTIONS": {"connect_timeout": 1},
        }
    if "default" not in databases:
        databases["default"] = dict(next(iter(databases.values())))
    try:
        django.setup()
    except Exception:
        fail("django.setup() failed with settings %s:\n%s" % (module, traceback.format_exc(limit=6)))

    from django.db import connections
    from django.db.migrations.loader import MigrationLoader

    connection = connections["default"]
    # What the schema editor would ask the server.
    connection.__dict__["pg_version"] = server_version
    # Django's PostgreSQL schema editor merges parameters into its SQL with a cursor of a live
    # connection (psycopg's mogrify); quote them client-side instead, as psycopg would.
    connection.ops.compose_sql = offline_compose

    loader = MigrationLoader(None, ignore_no_migrations=True)
    graph = loader.graph
    plan = []
    seen = set()
    for target in graph.leaf_nodes():
        for node in graph.forwards_plan(target):
            if node not in seen:
                seen.add(node)
                plan.append(node)

    folder = os.path.realpath(folder)
    out = {"django": django.get_version(), "settings": module, "migrations": []}
    for key in plan:
        migration = graph.nodes[key]
        mod = sys.modules.get(migration.__module__)
        path = getattr(mod, "__file__", None)
        if not path or os.path.realpath(os.path.dirname(path)) != folder:
            continue
        class_line, lines = op_lines(path)
        entry = {
            "app": key[0],
            "name": key[1],
            "path": path,
            "atomic": bool(migration.atomic),
            "class_line": class_line,
            "op_lines": lines,
            "dependencies": ["%s.%s" % d for d in migration.dependencies],
            "replaces": ["%s.%s" % r for r in (migration.replaces or [])],
            "ops": [
                {"kind": type(op).__name__, "describe": op.describe(),
                 "reviewable": bool(op.reduces_to_sql), "reversible": bool(op.reversible)}
                for op in migration.operations
            ],
        }
        entry["forwards"], entry["forwards_error"] = collect(loader, connection, key, migration, True)
        entry["backwards"], entry["backwards_error"] = collect(loader, connection, key, migration, False)
        out["migrations"].append(entry)
    sys.stdout.write(json.dumps(out))


def collect(loader, connection, key, migration, forwards):
    """[(op index, sql)] of one direction, or the error that stopped it."""
    from django.db.migrations.exceptions import IrreversibleError

    pieces = []
    try:
        state = loader.project_state(key, at_end=False)
        editor = connection.schema_editor(collect_sql=True, atomic=False)
        queued = {}
        with editor:
            app = migration.app_label

            def run(index, op, from_state, to_state):
                start = len(editor.collected_sql)
                before = len(editor.deferred_sql)
                if op.reduces_to_sql:
                    if forwards:
                        op.database_forwards(app, editor, from_state, to_state)
                    else:
                        op.database_backwards(app, editor, from_state, to_state)
                for stmt in editor.deferred_sql[before:]:
                    queued[id(stmt)] = index
                pieces.append([index, "\n".join(editor.collected_sql[start:])])

            if forwards:
                for index, op in enumerate(migration.operations):
                    old = state.clone()
                    op.state_forwards(app, state)
                    run(index, op, old, state)
            else:
                # As Migration.unapply: every intermediate state first, then the operations
                # in reverse order.
                to_run = []
                new_state = state
                for index, op in enumerate(migration.operations):
                    if not op.reversible:
                        raise IrreversibleError(
                            "operation %d (%s) is not reversible" % (index, op.describe())
                        )
                    new_state = new_state.clone()
                    old_state = new_state.clone()
                    op.state_forwards(app, new_state)
                    to_run.insert(0, (index, op, old_state, new_state))
                for index, op, to_state, from_state in to_run:
                    run(index, op, from_state, to_state)
            deferred = list(editor.deferred_sql)
            editor.deferred_sql = []
            for stmt in deferred:
                start = len(editor.collected_sql)
                editor.execute(stmt)
                pieces.append([queued.get(id(stmt)), "\n".join(editor.collected_sql[start:])])
        return pieces, None
    except Exception as e:
        line = None
        tb = e.__traceback__
        path = getattr(sys.modules.get(migration.__module__), "__file__", None)
        while tb is not None:
            if path and os.path.realpath(tb.tb_frame.f_code.co_filename) == os.path.realpath(path):
                line = tb.tb_lineno
            tb = tb.tb_next
        return None, {"line": line, "message": "%s: %s" % (type(e).__name__, e),
                      "irreversible": isinstance(e, IrreversibleError)}


main()
