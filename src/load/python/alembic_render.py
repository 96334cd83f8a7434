# migsafe's Alembic renderer: run by the project's own Python as
#   python -c <this> <alembic.ini>
# It asks the project's Alembic (its env.py, its revisions) for the offline SQL of the whole
# revision graph, `upgrade heads --sql` and `downgrade heads:base --sql`, exactly as the
# `alembic` command writes it, and adds comment markers migsafe reads back:
#   -- migsafe:op <line>      before the SQL of each op, with its line in the revision file
#   -- migsafe:version        before alembic's own alembic_version bookkeeping
#   -- migsafe:error <json>   an upgrade()/downgrade() that raised while rendering offline
# It prints one JSON document on stdout. Nothing here connects to a database: the URL is a
# placeholder on the reserved `.invalid` domain, and offline mode never opens a connection.
import io
import json
import os
import sys
import traceback

PLACEHOLDER = os.environ.get(
    "MIGSAFE_RENDER_URL", "postgresql://migsafe@migsafe-render.invalid/migsafe"
)


def main():
    ini = sys.argv[1]
    try:
        import alembic
        from alembic import command
        from alembic.config import Config
        from alembic.operations import Operations
        from alembic.runtime import migration as runtime
        from alembic.script import ScriptDirectory
    except ImportError as e:
        sys.stderr.write("migsafe: cannot import alembic with %s: %s\n" % (sys.executable, e))
        sys.exit(3)

    cfg = Config(ini)
    cfg.set_main_option("sqlalchemy.url", PLACEHOLDER)
    load_errors = []
    skip_unloadable(load_errors)
    script = ScriptDirectory.from_config(cfg)
    # Every alembic command below uses this one script directory, whose revision modules
    # carry the guards installed here.
    ScriptDirectory.from_config = classmethod(lambda cls, config: script)

    revisions = []
    paths = {}
    for sc in script.walk_revisions("base", "heads"):
        path = os.path.realpath(sc.path)
        paths[path] = sc.revision
        down = sc.down_revision
        if down is None:
            down = []
        elif isinstance(down, str):
            down = [down]
        deps = sc.dependencies
        if deps is None:
            deps = []
        elif isinstance(deps, str):
            deps = [deps]
        revisions.append(
            {
                "revision": sc.revision,
                "down_revisions": list(down),
                "depends_on": list(deps),
                "branch_labels": sorted(sc.branch_labels or []),
                "path": sc.path,
                "doc": sc.doc or "",
            }
        )
        for fn_name in ("upgrade", "downgrade"):
            fn = getattr(sc.module, fn_name, None)
            if fn is not None:
                setattr(sc.module, fn_name, guard(fn, fn_name, path))

    def revision_line():
        f = sys._getframe(2)
        while f is not None:
            if os.path.realpath(f.f_code.co_filename) in paths:
                return f.f_lineno
            f = f.f_back
        return None

    invoke = Operations.invoke

    def traced_invoke(self, operation):
        line = revision_line()
        ctx = self.migration_context
        if line is not None and ctx.as_sql:
            ctx.impl.static_output("-- migsafe:op %d" % line)
        return invoke(self, operation)

    Operations.invoke = traced_invoke

    heads = runtime.HeadMaintainer
    for name in ("_insert_version", "_delete_version", "_update_version"):
        original = getattr(heads, name, None)
        if original is None:
            continue

        def marked(self, *args, __original=original, **kw):
            if self.context.as_sql:
                self.context.impl.static_output("-- migsafe:version")
            return __original(self, *args, **kw)

        setattr(heads, name, marked)

    out = {"alembic": alembic.__version__, "revisions": revisions, "load_errors": load_errors}
    for key, run in (
        ("upgrade", lambda: command.upgrade(cfg, "heads", sql=True)),
        ("downgrade", lambda: command.downgrade(cfg, "heads:base", sql=True)),
    ):
        buf = io.StringIO()
        cfg.output_buffer = buf
        try:
            run()
            out[key] = buf.getvalue()
        except Exception:
            out[key] = None
            out[key + "_error"] = traceback.format_exc(limit=8)
    sys.stdout.write(json.dumps(out))


def skip_unloadable(errors):
    """A revision file that does not import (a syntax error, a bad import) is recorded and left
    out, so that the other revisions are still rendered."""
    from alembic.script import base

    for attr, path_of in (
        ("_from_path", lambda args: str(args[1])),
        ("_from_filename", lambda args: os.path.join(str(args[1]), str(args[2]))),
    ):
        original = base.Script.__dict__.get(attr)
        if original is None:
            continue

        def safe(cls, *args, __func=original.__func__, __path_of=path_of):
            try:
                return __func(cls, *args)
            except Exception as e:
                path = os.path.realpath(__path_of(args))
                line = getattr(e, "lineno", None) if isinstance(e, SyntaxError) else None
                tb = e.__traceback__
                while tb is not None:
                    if os.path.realpath(tb.tb_frame.f_code.co_filename) == path:
                        line = tb.tb_lineno
                    tb = tb.tb_next
                errors.append(
                    {"path": path, "line": line, "message": "%s: %s" % (type(e).__name__, e)}
                )
                return None

        setattr(base.Script, attr, classmethod(safe))


def guard(fn, fn_name, path):
    def guarded(*args, **kw):
        try:
            return fn(*args, **kw)
        except Exception as e:
            line = None
            tb = e.__traceback__
            while tb is not None:
                if os.path.realpath(tb.tb_frame.f_code.co_filename) == path:
                    line = tb.tb_lineno
                tb = tb.tb_next
            from alembic import op

            message = "%s() cannot be rendered offline: %s: %s" % (
                fn_name,
                type(e).__name__,
                e,
            )
            op.get_context().impl.static_output(
                "-- migsafe:error " + json.dumps({"line": line, "message": message})
            )

    guarded.__name__ = fn.__name__
    return guarded


main()
