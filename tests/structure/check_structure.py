#!/usr/bin/env python3
"""The layering rule of DESIGN decision 9, checked on the sources.

service -> ingest, query -> store -> core -> lib (store/sqlite implements
store/store_backend.h, store/postgresql is the PostgreSQL store beside it),
and in the client corridorctl.c -> query, carrier ->
common -> lib. The check fails on:
  - an #include that points up or sideways (a folder including a folder
    that is not below it);
  - a circle of includes between folders, or between files (a module is
    x.c with x.h; one includes another when either file includes the
    other's header);
  - any sqlite3 symbol or <sqlite3.h> outside daemon/store/sqlite/;
  - any libpq symbol (PQ..., PGconn, PGresult, PGRES_..., PG_DIAG_...) or
    <libpq-fe.h> outside daemon/store/postgresql/;
  - a disk path of the SQLite backend ("legs/", ".db" in a string)
    outside daemon/store/sqlite/;
  - a static_library of daemon/meson.build whose include path holds a
    folder that is not its own or below it (so the compiler would let an
    upward #include through), or that links SQLite outside
    daemon/store/sqlite/ or libpq outside daemon/store/postgresql/.
Known problems still to be fixed are listed, one per line, in a baseline
file (tests/structure/known_problems.txt): they are reported but do not
fail; a new problem fails, and so does a listed one that is gone (remove it
from the list, so that it cannot come back).
usage: check_structure.py SOURCE_ROOT [BASELINE]
"""
import os
import re
import sys

# folder -> the folders its files may include (besides its own)
BELOW = {
    'lib': {'proto'},
    'daemon/core': {'lib', 'proto'},
    'daemon/store': {'daemon/core', 'lib', 'proto'},
    'daemon/store/sqlite': {'daemon/store', 'daemon/core', 'lib', 'proto'},
    'daemon/store/postgresql': {'daemon/store', 'daemon/core', 'lib', 'proto'},
    'daemon/ingest': {'daemon/store', 'daemon/core', 'lib', 'proto'},
    'daemon/query': {'daemon/store', 'daemon/core', 'lib', 'proto'},
    'daemon/service': {'daemon/ingest', 'daemon/query', 'daemon/store', 'daemon/core',
                       'lib', 'proto'},
    'daemon': {'daemon/service', 'daemon/core', 'lib', 'proto'},
    'client/common': {'lib', 'proto'},
    'client/query': {'client/common', 'lib', 'proto'},
    'client/carrier': {'client/common', 'lib', 'proto'},
    'client': {'client/common', 'client/query', 'client/carrier', 'lib', 'proto'},
}
SQLITE_ROOM = 'daemon/store/sqlite'
PG_ROOM = 'daemon/store/postgresql'
# headers generated at build time, by the folder they belong to
GENERATED = {'corridor.pb-c.h': 'proto'}

INCLUDE = re.compile(r'^\s*#\s*include\s+([<"])([^>"]+)[>"]', re.M)
COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)
STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
SQLITE_SYMBOL = re.compile(r'\bsqlite3\w*|\bSQLITE_\w+')
LIBPQ_SYMBOL = re.compile(r'\bPQ\w+|\bPGconn\b|\bPGresult\b|\bPGRES_\w+|\bPG_DIAG_\w+')
LIBPQ_HEADERS = {'libpq-fe.h', 'libpq-events.h', 'postgres_ext.h'}
DISK_PATH = re.compile(r'legs/|\.db\b')


def sources(root):
    """Every .c and .h under the folders of BELOW, by path relative to root."""
    found = []
    for folder in BELOW:
        top = os.path.join(root, folder)
        if not os.path.isdir(top):
            continue
        for name in sorted(os.listdir(top)):
            if name.endswith(('.c', '.h')):
                found.append(os.path.join(folder, name))
    return found


def symbol_problems(path, code, symbol, what, room):
    """A library's symbols in code (outside strings) of a file outside room."""
    lines = sorted({code.count('\n', 0, m.start()) + 1
                    for m in symbol.finditer(STRING.sub('""', code))})
    if not lines:
        return []
    return ['%s: %s symbols outside %s/ (lines %s)' % (
        path, what, room, ' '.join(map(str, lines[:8])))]


def strongly_connected(nodes, edges):
    """Tarjan's algorithm; the components with more than one node."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


MESON_LIB = re.compile(r"static_library\('([^']+)',(.*?)\)\n", re.S)
MESON_INC = re.compile(r"include_directories\(([^)]*)\)")
MESON_ALL_INC = re.compile(r"^all_inc\s*=\s*include_directories\(([^)]*)\)", re.M)


def quoted(text):
    return re.findall(r"'([^']+)'", text)


def meson_problems(root):
    """The include path and SQLite and libpq links of each of the daemon's
    libraries."""
    path = os.path.join(root, 'daemon', 'meson.build')
    with open(path, encoding='utf-8') as f:
        text = re.sub(r'#[^\n]*', '', f.read())
    m = MESON_ALL_INC.search(text)
    all_inc = quoted(m.group(1)) if m else []
    problems = []
    for name, body in MESON_LIB.findall(text):
        folders = {os.path.dirname(src) for src in quoted(body) if src.endswith('.c')}
        if len(folders) != 1:
            problems.append('daemon/meson.build: %s has sources of %d folders' % (
                name, len(folders)))
            continue
        folder = 'daemon/' + folders.pop()
        inc = MESON_INC.search(body)
        dirs = quoted(inc.group(1)) if inc else (all_inc if 'all_inc' in body else [])
        wrong = sorted(d for d in dirs
                       if 'daemon/' + d != folder and 'daemon/' + d not in BELOW[folder])
        if wrong:
            problems.append('daemon/meson.build: %s (%s/) has %s on its include path' % (
                name, folder, ', '.join(wrong)))
        if 'sqlite_dep' in body and folder != SQLITE_ROOM:
            problems.append('daemon/meson.build: %s (%s/) links SQLite' % (name, folder))
        if 'libpq_dep' in body and folder != PG_ROOM:
            problems.append('daemon/meson.build: %s (%s/) links libpq' % (name, folder))
    return problems


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else '.'
    files = sources(root)
    headers = {}
    problems = []
    for path in files:
        if path.endswith('.h'):
            name = os.path.basename(path)
            if name in headers:
                problems.append('%s: header name also used by %s' % (path, headers[name]))
            headers[name] = path

    module_edges, folder_edges, modules = {}, {}, set()
    for path in files:
        folder = os.path.dirname(path)
        module = os.path.splitext(path)[0]
        modules.add(module)
        with open(os.path.join(root, path), encoding='utf-8') as f:
            text = f.read()
        code = COMMENT.sub(' ', text)
        for kind, name in INCLUDE.findall(code):
            if kind == '<':
                if name == 'sqlite3.h' and folder != SQLITE_ROOM:
                    problems.append('%s: includes <sqlite3.h> outside %s/' % (path, SQLITE_ROOM))
                if os.path.basename(name) in LIBPQ_HEADERS and folder != PG_ROOM:
                    problems.append('%s: includes <%s> outside %s/' % (path, name, PG_ROOM))
                continue
            base = os.path.basename(name)
            if base in GENERATED:
                target_folder, target = GENERATED[base], None
            elif base in headers:
                target = headers[base]
                target_folder = os.path.dirname(target)
            else:
                continue	# a header of another tree (tests, bench): not ours
            if target_folder != folder:
                if target_folder not in BELOW[folder]:
                    problems.append('%s: includes %s from %s/, which is not below %s/' % (
                        path, base, target_folder, folder))
                folder_edges.setdefault(folder, set()).add(target_folder)
            if target is not None:
                other = os.path.splitext(target)[0]
                if other != module:
                    module_edges.setdefault(module, set()).add(other)
        if folder != SQLITE_ROOM:
            problems += symbol_problems(path, code, SQLITE_SYMBOL, 'SQLite', SQLITE_ROOM)
            lines = [code.count('\n', 0, m.start()) + 1 for m in STRING.finditer(code)
                     if DISK_PATH.search(m.group(0))]
            if lines:
                problems.append('%s: disk paths outside %s/ (lines %s)' % (
                    path, SQLITE_ROOM, ' '.join(map(str, lines[:8]))))
        if folder != PG_ROOM:
            problems += symbol_problems(path, code, LIBPQ_SYMBOL, 'libpq', PG_ROOM)

    problems += meson_problems(root)
    for comp in strongly_connected(set(BELOW) | {'proto'}, folder_edges):
        problems.append('folders include each other in a circle: %s' % ' -> '.join(comp))
    for comp in strongly_connected(modules, module_edges):
        problems.append('files include each other in a circle: %s' % ', '.join(comp))

    known = set()
    if len(sys.argv) > 2:
        with open(sys.argv[2], encoding='utf-8') as f:
            known = {l.strip() for l in f if l.strip() and not l.startswith('#')}
    keys = {p.split(' (lines ')[0]: p for p in problems}
    new = [keys[k] for k in sorted(keys) if k not in known]
    gone = sorted(known - set(keys))
    for k in sorted(set(keys) & known):
        print('known: ' + keys[k])
    for p in new:
        print('NEW: ' + p)
    for k in gone:
        print('FIXED, remove it from the baseline: ' + k)
    print('%d files, %d modules, %d folder edges: %d known problems, %d new, %d fixed' % (
        len(files), len(modules), sum(len(v) for v in folder_edges.values()),
        len(set(keys) & known), len(new), len(gone)))
    return 1 if new or gone else 0


if __name__ == '__main__':
    sys.exit(main())
