#!/usr/bin/env python3
"""Rebuilds the seed corpus under fuzz/corpus from migsafe's own fixtures plus hostile inputs.

Run from anywhere: `python3 fuzz/seed.py`. It only adds files (seeds and the crash inputs kept
as regressions stay). The review target's inputs are small folders: each file starts with a
`-- fuzz-file: NAME` line (see fuzz/src/checks.rs).
"""
import os
import re
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
FIXTURES = FUZZ.parent / "fixtures"
MAX = 16 * 1024  # the -max_len run.sh gives libFuzzer
MARKER = "-- fuzz-file: "
SAFE = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)?$")


def write(target: str, name: str, data: bytes) -> None:
    if len(data) > MAX:
        return
    out = FUZZ / "corpus" / target
    out.mkdir(parents=True, exist_ok=True)
    (out / name).write_bytes(data)


def flat(path: Path) -> str:
    return str(path.relative_to(FIXTURES)).replace("/", "-")


def reviewable(rel: str) -> bool:
    base = rel.rsplit("/", 1)[-1]
    return bool(SAFE.match(rel)) and (
        base.endswith(".sql") or base in ("CODEOWNERS", "migsafe.toml", "metadata.toml")
    )


# Parse target: every fixture SQL file on its own.
for sql in sorted(FIXTURES.rglob("*.sql")):
    write("parse", "fixture-" + flat(sql), sql.read_bytes())

# Review target: each fixture folder that holds migrations, as one folder input; each rule
# example on its own.
folders = sorted({p.parent for p in FIXTURES.rglob("*.sql")})
roots = set()
for folder in folders:
    # A diesel or prisma migration is a folder of its own: seed its parent, two levels deep.
    root = folder.parent if (folder / "up.sql").exists() or (folder / "migration.sql").exists() else folder
    roots.add(root)
for root in sorted(roots):
    if root.parent.name == "rules":
        for example in sorted(root.glob("*.sql")):
            write("review", "rule-" + flat(example), example.read_bytes())
        continue
    parts = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = str(path.relative_to(root))
        if reviewable(rel):
            parts.append((MARKER + rel + "\n").encode() + path.read_bytes())
    if parts:
        write("review", "folder-" + flat(root) if root != FIXTURES else "folder-fixtures", b"".join(parts))

# Hostile inputs, for both targets.
hostile = {
    "unterminated-dollar.sql": b"CREATE FUNCTION f() RETURNS int AS $body$\nBEGIN RETURN 1; END;\n$bod$;\nSELECT 1;\n",
    "unterminated-tagless-dollar.sql": b"DO $$ BEGIN PERFORM 1;\n",
    "nested-comments.sql": b"/* outer /* inner */ still comment; DROP TABLE t; */\nCREATE INDEX i ON t (c);\n",
    "unclosed-nested-comment.sql": b"/* a /* b */ CREATE INDEX i ON t (c);\n",
    "nul-bytes.sql": b"CREATE INDEX i ON t (c);\x00\nALTER TABLE t ADD COLUMN \x00x int;\n\x00\x00;\n",
    "invalid-utf8.sql": b"CREATE INDEX idx ON orders (f);\n\xff\xfe\x00\x80 not text \xc3\x28;\nDROP TABLE \xe2\x82;\n",
    "huge-line.sql": b"INSERT INTO t VALUES " + b",".join(b"(%d, 'x')" % i for i in range(1200)) + b";\n",
    "escape-string.sql": b"SELECT E'it\\'s; not the end', 'plain '' quote; still';\nCREATE INDEX i ON t (c);\n",
    "quoted-ident.sql": b'CREATE TABLE "we;ird"("a""b" int);\nALTER TABLE "we;ird" ADD COLUMN "c" int NOT NULL;\n',
    "psql-meta.sql": b"\\set ON_ERROR_STOP 1\n\\connect other\nCREATE INDEX i ON t (c);\n\\i other.sql\n",
    "begin-atomic.sql": b"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END;\nDROP INDEX i;\n",
    "crlf-bom.sql": b"\xef\xbb\xbf-- owner: @team\r\nCREATE INDEX i ON t (c);\r\nALTER TABLE t ALTER COLUMN c TYPE bigint;\r\n",
    "goose-unbalanced.sql": b"-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n-- +goose Down\nDROP FUNCTION f;\n",
    "dbmate-sections.sql": b"-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (c);\n-- migrate:down\nDROP INDEX i;\n-- migrate:up\n",
    "alembic-offline.sql": b"BEGIN;\n-- Running upgrade  -> a1\nCREATE TABLE t (id int);\n-- Running upgrade a1 -> b2\nALTER TABLE t ADD COLUMN c int DEFAULT now();\nUPDATE alembic_version SET version_num='b2';\nCOMMIT;\n",
    "metadata-annotations.sql": b"-- owner: @payments\n-- expect: rows <= 50000\n-- expect: plan \"SELECT * FROM orders WHERE id = 1\" uses index orders_pkey\n-- expect: lock < 2s\n-- rollback: DROP INDEX CONCURRENTLY IF EXISTS i;\n-- migsafe:allow create-index-non-concurrently reason: new table\nCREATE INDEX i ON t (c);\n",
    "template-placeholder.sql": b"CREATE INDEX {{ name }} ON ${schema}.t (c);\nALTER TABLE :tbl ADD COLUMN c int;\n",
    "deep-parens.sql": b"SELECT " + b"(" * 400 + b"1" + b")" * 400 + b";\nCREATE INDEX i ON t (c);\n",
    "only-semicolons.sql": b";;;\n;\n  ;  -- c\n/**/;\n",
    "empty.sql": b"",
}
for name, data in hostile.items():
    write("parse", "hostile-" + name, data)
    write("review", "hostile-" + name, data)

# A small folder with a config and CODEOWNERS, and a down file next to its up file.
write(
    "review",
    "folder-config-codeowners",
    (
        MARKER + "migsafe.toml\n[rules]\ncreate-index-non-concurrently = \"warning\"\n"
        "[thresholds]\nlock_timeout = \"2s\"\n"
        + MARKER + "CODEOWNERS\n*.sql @db-team\n"
        + MARKER + "001_add_index.up.sql\nCREATE INDEX i ON t (c);\n"
        + MARKER + "001_add_index.down.sql\nDROP INDEX i;\n"
    ).encode(),
)
