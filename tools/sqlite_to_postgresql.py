#!/usr/bin/python3
"""Copies a stopped corridord's SQLite state (state_dir/corridor.db and
state_dir/legs/*.db) into a PostgreSQL database for store = postgresql, in
one transaction: legs, carriers with their marks, rejections, resends
answered from the marks, every stored update with its corridor-wide
(carrier, seq) claim, and the derived traversals, hourly rollups,
conveyances and their derivation marks (so rollups whose raw events
retention already dropped come along, and nothing is derived again).

The database gets its schema first from corridord itself
(corridord --init-store with the same configuration), so the tables are
those this build writes. A database that already holds updates is refused.
Run through tools/sqlite-to-postgresql.sh. Standard library only; psql does
the COPY."""
import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile

# table -> the SQLite file it comes from ('catalog' or 'leg')
CATALOG_TABLES = ('legs', 'carriers', 'rejections', 'duplicates_hourly')
LEG_TABLES = ('events', 'traversals', 'transit_hourly', 'volume_hourly', 'quality_hourly',
              'conveyances', 'rollup_meta')
PROGRESS_EVERY = 100000     # rows between progress lines


def die(msg):
    sys.stderr.write('sqlite-to-postgresql: %s\n' % msg)
    sys.exit(1)


def psql(args, conninfo, sql=None, script=None):
    cmd = [args.psql, '-X', '-w', '-q', '-At', '-v', 'ON_ERROR_STOP=1']
    if script is not None:
        cmd += ['-1', '-f', script]
    else:
        cmd += ['-c', sql]
    # the load's \echo lines are its progress: on stderr as they come
    p = subprocess.run(cmd + [conninfo], text=True, stderr=subprocess.PIPE,
                       stdout=sys.stderr if script is not None else subprocess.PIPE)
    if p.returncode != 0:
        die('psql: %s' % (p.stderr.strip() or (p.stdout or '').strip()))
    return (p.stdout or '').strip()


def copy_text(v):
    """One value in COPY's text format."""
    if v is None:
        return '\\N'
    if isinstance(v, bytes):
        return '\\\\x' + v.hex()
    if isinstance(v, float):
        return repr(v)
    s = str(v)
    return (s.replace('\\', '\\\\').replace('\t', '\\t').replace('\n', '\\n')
            .replace('\r', '\\r'))


class Copier:
    def __init__(self, args, tmp):
        self.args, self.tmp = args, tmp
        self.pg_columns = {}
        self.files = []         # (table, columns, path), in the order to copy
        self.rows = 0

    def pg_cols(self, table):
        if table not in self.pg_columns:
            out = psql(self.args, self.args.conninfo,
                       "SELECT column_name FROM information_schema.columns WHERE"
                       " table_schema = current_schema() AND table_name = '%s'"
                       " ORDER BY ordinal_position" % table)
            if not out:
                die('the database has no table %s: is it corridor\'s schema?' % table)
            self.pg_columns[table] = out.split('\n')
        return self.pg_columns[table]

    def open_out(self, name, table, columns):
        path = os.path.join(self.tmp, '%03d-%s.copy' % (len(self.files), name))
        self.files.append((table, columns, path))
        return open(path, 'w', encoding='utf-8')

    def progress(self, n):
        self.rows += n
        if self.rows // PROGRESS_EVERY != (self.rows - n) // PROGRESS_EVERY or n == 0:
            sys.stderr.write('\rread %d rows' % self.rows)
            sys.stderr.flush()

    def table(self, db, table, target, leg=None, name=None):
        """Writes db's table (with leg added) for COPY into target."""
        src_cols = [r[1] for r in db.execute('PRAGMA table_info(%s)' % table)]
        want = self.pg_cols(target if not target.endswith('_in') else target[:-3])
        cols = [c for c in want if c in src_cols or (c == 'leg' and leg is not None)]
        missing = [c for c in src_cols if c not in want]
        if missing:
            die('%s.%s has columns the database does not: %s' % (name or table, table,
                                                                  ', '.join(missing)))
        select = ', '.join(c for c in cols if c != 'leg' or leg is None)
        with self.open_out(name or table, target, cols) as f:
            n = 0
            for row in db.execute('SELECT %s FROM %s' % (select, table)):
                vals = list(row)
                if leg is not None and 'leg' in cols:
                    vals.insert(cols.index('leg'), leg)
                f.write('\t'.join(copy_text(v) for v in vals) + '\n')
                n += 1
                if n % 10000 == 0:
                    self.progress(10000)
            self.progress(n % 10000)
        return cols

    def claims(self, db, leg, name):
        with self.open_out(name + '-claims', 'update_seqs', ['carrier', 'seq', 'leg']) as f:
            for carrier, seq in db.execute('SELECT carrier, seq FROM events'):
                f.write('%s\t%d\t%s\n' % (copy_text(carrier), seq, copy_text(leg)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('state_dir')
    ap.add_argument('conninfo')
    ap.add_argument('--psql', default='psql')
    args = ap.parse_args()

    catalog = os.path.join(args.state_dir, 'corridor.db')
    legs_dir = os.path.join(args.state_dir, 'legs')
    if not os.path.exists(catalog):
        die('%s: no catalog (is it a corridord state directory?)' % catalog)
    if psql(args, args.conninfo, 'SELECT count(*) FROM update_seqs') != '0':
        die('the database holds updates already: it must be new')

    with tempfile.TemporaryDirectory(prefix='corridor-migrate-') as tmp:
        cp = Copier(args, tmp)
        cat = sqlite3.connect('file:%s?mode=ro' % catalog, uri=True)
        for t in CATALOG_TABLES:
            # legs and carriers meet corridord --init-store's rows: staged
            cp.table(cat, t, t + '_in' if t in ('legs', 'carriers') else t, name='catalog')
        leg_codes = [r[0] for r in cat.execute('SELECT code FROM legs ORDER BY code')]
        cat.close()
        for code in leg_codes:
            path = os.path.join(legs_dir, code + '.db')
            if not os.path.exists(path):
                continue        # a leg that never stored anything
            db = sqlite3.connect('file:%s?mode=ro' % path, uri=True)
            cp.claims(db, code, code)
            for t in LEG_TABLES:
                cp.table(db, t, t, leg=code, name=code)
            db.close()
        cp.progress(0)
        sys.stderr.write('\n')

        script = os.path.join(tmp, 'load.sql')
        with open(script, 'w', encoding='utf-8') as f:
            f.write('CREATE TEMP TABLE legs_in (LIKE legs);\n'
                    'CREATE TEMP TABLE carriers_in (LIKE carriers);\n')
            legs_loaded = False
            for table, cols, path in cp.files:
                if table in LEG_TABLES + ('update_seqs',) and not legs_loaded:
                    # the configuration's legs (--init-store) win; the others
                    # (a leg since dropped from it) come with their partitions
                    f.write('INSERT INTO legs SELECT * FROM legs_in'
                            ' ON CONFLICT (code) DO NOTHING;\n'
                            'INSERT INTO carriers SELECT * FROM carriers_in'
                            ' ON CONFLICT (code) DO UPDATE SET acked_seq ='
                            ' greatest(carriers.acked_seq, excluded.acked_seq);\n'
                            'DELETE FROM rollup_meta;\n')
                    legs_loaded = True
                f.write("\\echo copying %s\n" % os.path.basename(path))
                f.write("\\copy %s (%s) FROM '%s'\n" % (table, ', '.join(cols), path))
            # new events get ids above every copied one (\g: its value unprinted)
            f.write("SELECT setval('events_id_seq', greatest(coalesce(max(id), 0), 1))"
                    " FROM events \\g /dev/null\n")
            # the planner's statistics now, not a minute later from
            # autovacuum: a never-analysed table is planned as nearly empty
            # (ANALYZE of events recurses into its partitions)
            f.write("\\echo analysing\n"
                    "ANALYZE update_seqs, %s;\n" % ', '.join(LEG_TABLES))
        psql(args, args.conninfo, script=script)
    n = psql(args, args.conninfo, 'SELECT count(*) FROM events')
    print('copied %s updates of %d legs into PostgreSQL' % (n, len(leg_codes)))


if __name__ == '__main__':
    main()
