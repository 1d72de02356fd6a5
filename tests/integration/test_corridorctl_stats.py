#!/usr/bin/python3
"""corridorctl's statistics subcommands against a real corridord: a small
known corridor is pushed with `corridorctl push` (24 containers by rail
Altynkol -> Aktau with plans, estimates, delay reasons, a retracted plan and
two arrivals sent before their departures; 12 of them on across the Caspian
to Baku; customs holds at Aktau port; units still in transit; two bad
updates), then every subcommand's --json must match the figures computed
here, --csv must parse to the same, tables must fit COLUMNS, the histogram
must draw bars whose counts add up to n with p50/p90/typical marked, and
--watch must refresh (and survive a daemon it cannot reach). Standard
library only."""
import csv
import datetime
import fcntl
import io
import json
import math
import os
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corridor_model as model  # noqa: E402
import harness  # noqa: E402

H = model.HOUR_MS
RAIL, PORT, SEA = model.RAIL, model.PORT, model.SEA   # ALK->AKT, AKT stay, AKT->BAK
TYPICAL = {RAIL: 120.0, PORT: 72.0, SEA: 24.0}
CTL_TIMEOUT_S = 30
UNITS = 24
WIDTHS = (40, 60, 80, 120)
PCT_TOL = 0.01        # percentiles from the daemon's histograms: within 1%
STATS_DROP_ORDER = ('containers', 'tonnes', 'p95_h', 'mean_h', 'min_h', 'teu', 'on_time_pct',
                    'max_h', 'direction')


def hours(ms):
    return ms / H


def near(got, want, tol):
    return got is not None and abs(float(got) - want) <= tol + 1e-9


def scenario(base, now):
    """(phases, units, bad): per-carrier updates in two phases (dicts of proto
    fields, with seq and message_id), the facts per container, and the
    updates that must be rejected."""
    ups = {'KTZE': [[], []], 'PTCH': [[], []], 'KMTF': [[], []]}
    units = []

    def add(carrier, phase, code, at, leg, classifier='ACT', **kw):
        u = model.ev(carrier, code, 0, leg, classifier=classifier, **kw)
        del u['_hour']
        u['event_time_ms'] = at
        ups[carrier][phase].append(u)
        return u

    for i in range(UNITS):
        box = model.container('TCNU', 200000 + i)
        t0 = base + i * 3 * H
        d = 90 + (i * 37 % UNITS) * 5            # 90 .. 205 h, each once
        f = dict(box=box, t0=t0, exit=t0 + d * H, d=d, teu=2 if i % 2 else 1,
                 kg=10000 + 100 * i, train='KZ1%02d' % (i // 8), reasons=[])
        cargo = dict(container=box, iso_type='45G1' if i % 2 else '22G1', gross_kg=f['kg'],
                     train_id=f['train'])
        depa = dict(code='DEPA', at=t0, **cargo)
        arri = dict(code='ARRI', at=f['exit'], container=box)
        if i % 5 == 0:
            arri['delay_reason'] = 'WEA'
        if i == 7:
            depa['delay_reason'] = arri['delay_reason'] = 'CON'
        order = [arri, depa] if i in (20, 21) else [depa, arri]   # out of order
        for e in order:
            e = dict(e)
            add('KTZE', 0, e.pop('code'), e.pop('at'), RAIL, **e)
        for e in (depa, arri):
            if 'delay_reason' in e:
                f['reasons'].append(e['delay_reason'])
        if i % 3 == 0:
            f['plan'] = t0 + 130 * H
            if i == 3:
                # a wrong plan first, put right by a retraction
                wrong = add('KTZE', 0, 'ARRI', t0 + 50 * H, RAIL, classifier='PLN',
                            container=box)
                right = add('KTZE', 1, 'ARRI', f['plan'], RAIL, classifier='PLN',
                            container=box)
                right['_retracts'] = wrong
            else:
                add('KTZE', 0, 'ARRI', f['plan'], RAIL, classifier='PLN', container=box)
        if i % 4 == 0:
            f['est'] = t0 + 125 * H
            add('KTZE', 0, 'ARRI', f['est'], RAIL, classifier='EST', container=box)
        if i < 12:
            load = f['exit'] + 10 * H
            f['disc'] = load + (20 + i) * H
            add('KMTF', 0, 'LOAD', load, SEA, mode='VESSEL', vessel_imo='9301234',
                voyage='V%d' % (i // 6), **cargo)
            disc = add('KMTF', 0, 'DISC', f['disc'], SEA, mode='VESSEL',
                       vessel_imo='9301234', voyage='V%d' % (i // 6), container=box)
            if i in (0, 1):
                disc['delay_reason'] = 'STR'
                f['reasons'].append('STR')
        if i < 6:
            f['port_in'] = f['exit'] + H
            f['hold'] = f['port_in'] + H
            add('PTCH', 0, 'GTIN', f['port_in'], PORT, container=box, iso_type='22G1')
            add('PTCH', 0, 'HOLD', f['hold'], PORT, container=box)
            if i < 4:
                f['rels'] = f['hold'] + (i + 1) * 1.5 * H
                add('PTCH', 0, 'RELS', int(f['rels']), PORT, container=box)
        units.append(f)
    # still on the rail leg: one for weeks (over the typical time), one not
    old = dict(box=model.container('TCNU', 300001), t0=base + 5 * H, teu=1, kg=5000)
    new = dict(box=model.container('TCNU', 300002), t0=now - 2 * H, teu=1, kg=6000)
    for f in (old, new):
        add('KTZE', 0, 'DEPA', f['t0'], RAIL, container=f['box'], iso_type='22G1',
            gross_kg=f['kg'])
    bad_box = model.container('TCNU', 299999)
    bad_box = bad_box[:-1] + str((int(bad_box[-1]) + 1) % 10)
    bad = [add('KTZE', 1, 'DEPA', base + k * H, RAIL, container=bad_box) for k in (1, 2)]
    for carrier, phases in ups.items():
        seq = 0
        for phase in phases:
            for u in phase:
                seq += 1
                u['seq'], u['message_id'] = seq, '%s-%d' % (carrier, seq)
        for phase in phases:
            for u in phase:
                if '_retracts' in u:
                    u['retracts_message_id'] = u.pop('_retracts')['message_id']
    return ups, units, (old, new), bad


class CorridorctlStats(unittest.TestCase):
    """One daemon for the class: pushed once, then asked many ways."""

    @classmethod
    def setUpClass(cls):
        harness.require_binary(harness.CORRIDORCTL, 'corridorctl')
        cls.metrics_port = harness.free_port()
        cls.daemon = harness.Daemon(extra_args=['--metrics-listen',
                                                '127.0.0.1:%d' % cls.metrics_port])
        try:
            cls.daemon.start()
            cls.now = int(time.time() * 1000)
            cls.base = model.scenario_base_ms(cls.now)
            cls.ups, cls.units, cls.transit, cls.bad = scenario(cls.base, cls.now)
            cls.push_started = time.time() * 1000
            cls.push_all()
            cls.push_ended = time.time() * 1000
        except BaseException:
            cls.daemon.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        alive = cls.daemon.alive()
        rc = cls.daemon.stop()
        reports = cls.daemon.sanitizer_reports()
        log = cls.daemon.log_tail()
        cls.daemon.cleanup()
        if not alive or rc != 0 or reports:
            raise AssertionError('corridord alive=%s rc=%s sanitizer=%s\n%s' % (
                alive, rc, reports[:5], log))

    @classmethod
    def ctl_run(cls, args, port=None, env=None, check=True):
        cmd = [harness.CORRIDORCTL, '--port', str(port or cls.daemon.query_port)] + list(args)
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=CTL_TIMEOUT_S, env=env)
        if check and p.returncode != 0:
            raise AssertionError('%s exited %d\nstdout:\n%s\nstderr:\n%s\ndaemon:\n%s' % (
                ' '.join(cmd), p.returncode, p.stdout, p.stderr, cls.daemon.log_tail()))
        return p

    @classmethod
    def push_all(cls):
        tmp = tempfile.mkdtemp(prefix='ctl-stats-', dir=cls.daemon.state_dir)
        for phase in (0, 1):
            for carrier, phases in sorted(cls.ups.items()):
                if not phases[phase]:
                    continue
                path = os.path.join(tmp, '%s.%d.jsonl' % (carrier, phase))
                with open(path, 'w', encoding='utf-8') as f:
                    for u in phases[phase]:
                        f.write(json.dumps(model.wire_fields(u)) + '\n')
                p = cls.ctl_run(['push', '--carrier', carrier, path],
                                port=cls.daemon.carrier_port, check=False)
                want = 3 if any(u in cls.bad for u in phases[phase]) else 0
                if p.returncode != want:
                    raise AssertionError('push %s phase %d exited %d, not %d:\n%s%s' % (
                        carrier, phase, p.returncode, want, p.stdout, p.stderr))

    def json(self, *args):
        out = self.ctl_run(['--json'] + list(args)).stdout
        try:
            return json.loads(out)
        except ValueError as e:
            self.fail('%s: not JSON (%s): %r' % (' '.join(args), e, out[:300]))

    def csv_rows(self, *args):
        out = self.ctl_run(['--csv'] + list(args)).stdout
        return list(csv.DictReader(io.StringIO(out)))

    def table(self, columns, *args):
        env = dict(os.environ, COLUMNS=str(columns))
        return self.ctl_run(list(args), env=env).stdout

    # ------------------------------------------------------------ the figures
    def test_stats_and_ontime(self):
        d = sorted(f['d'] for f in self.units)
        row, = self.json('stats', RAIL)
        self.assertEqual((row['leg'], row['direction'], row['n']), (RAIL, '*', UNITS))
        self.assertEqual((row['teu'], row['containers']),
                         (sum(f['teu'] for f in self.units), UNITS))
        self.assertTrue(near(row['tonnes'], sum(f['kg'] for f in self.units) / 1000, 0.0005))
        self.assertTrue(near(row['min_h'], d[0], 0.005) and near(row['max_h'], d[-1], 0.005))
        self.assertTrue(near(row['mean_h'], sum(d) / len(d), 0.005), row)
        for p in (50, 90, 95):
            w = model.nearest_rank(d, p)
            self.assertTrue(near(row['p%d_h' % p], w, PCT_TOL * w + 0.005), (p, row))
        on = sum(1 for x in d if x <= TYPICAL[RAIL])
        self.assertTrue(near(row['on_time_pct'], 100 * on / UNITS, 0.05), row)

        row, = self.json('ontime', RAIL)
        planned = [f for f in self.units if 'plan' in f]
        est = [f for f in self.units if 'est' in f]
        want = dict(leg=RAIL, n=UNITS, typical_h=TYPICAL[RAIL], on_time=on, planned=len(planned),
                    on_plan=sum(1 for f in planned if f['exit'] <= f['plan']), eta_n=len(est))
        self.assertEqual({k: row[k] for k in want}, want, row)
        self.assertTrue(near(row['on_plan_pct'], 100 * want['on_plan'] / len(planned), 0.05))
        mae = sum(abs(f['est'] - f['exit']) for f in est) / len(est) / H
        self.assertTrue(near(row['eta_mae_h'], mae, 0.005), (row, mae))
        # every leg without a leg argument, in LEGS order; direction filter
        legs = [r['leg'] for r in self.json('legs')]
        self.assertEqual([r['leg'] for r in self.json('ontime')], legs)
        row, = self.json('ontime', RAIL, '--direction', 'E')
        self.assertEqual((row['direction'], row['n']), ('E', 0))
        # nothing measured is null, not 0 %: no traversal at all, or none with a plan
        self.assertEqual((row['on_time_pct'], row['on_plan_pct']), (None, None), row)
        row, = self.json('ontime', SEA)
        self.assertEqual((row['n'], row['planned'], row['on_plan_pct']), (12, 0, None), row)
        self.assertIsNotNone(row['on_time_pct'], row)
        csv_row, = self.csv_rows('ontime', SEA)
        self.assertEqual(csv_row['on_plan_pct'], '', csv_row)

    def test_volumes(self):
        every = self.units + list(self.transit)
        for period, key in (('day', lambda ms: model.iso(ms)[:10]), ('week', iso_week),
                            ('month', lambda ms: model.iso(ms)[:7])):
            want = {}
            for f in every:
                w = want.setdefault(key(f['t0']), dict(units=0, teu=0, containers=0, kg=0,
                                                       trains=set()))
                w['units'] += 1
                w['teu'] += f['teu']
                w['containers'] += 1
                w['kg'] += f['kg']
            firsts = {}
            for f in self.units:
                firsts[f['train']] = min(firsts.get(f['train'], f['t0']), f['t0'])
            for train, at in firsts.items():
                want[key(at)]['trains'].add(train)
            rows = self.json('volumes', RAIL, period)
            self.assertEqual([r['period'] for r in rows], sorted(want), period)
            for r in rows:
                w = want[r['period']]
                self.assertEqual((r['units'], r['teu'], r['containers'], r['trains'],
                                  r['vessel_calls']),
                                 (w['units'], w['teu'], w['containers'], len(w['trains']), 0),
                                 (period, r))
                self.assertTrue(near(r['tonnes'], w['kg'] / 1000, 0.0005), r)
        calls = self.json('volumes', SEA, 'month')
        self.assertEqual(sum(r['vessel_calls'] for r in calls), 2)
        self.assertEqual(sum(r['units'] for r in calls), 12)
        # by carrier: PTCH entered nothing on the rail leg
        self.assertEqual(self.json('volumes', RAIL, 'day', '--carrier', 'PTCH'), [])

    def test_journeys(self):
        d = sorted(hours(f['disc'] - f['t0']) for f in self.units if 'disc' in f)
        rows = {r['direction']: r for r in self.json('journeys', 'ALK', 'BAK')}
        w, e = rows['W'], rows['E']
        self.assertEqual((w['n'], w['target_days'], e['n']), (len(d), 9, 0))
        for col, v in (('min_h', d[0]), ('max_h', d[-1]), ('mean_h', sum(d) / len(d)),
                       ('p50_h', model.nearest_rank(d, 50)), ('p90_h', model.nearest_rank(d, 90)),
                       ('p95_h', model.nearest_rank(d, 95))):
            self.assertTrue(near(w[col], v, 0.005), (col, w, v))
        self.assertTrue(near(w['on_time_pct'], 100 * sum(x <= 9 * 24 for x in d) / len(d), 0.05))
        row, = self.json('journeys', 'ALK', 'BAK', '--direction', 'W', '--target-days', '8.5')
        self.assertEqual(row['target_days'], 8.5)
        self.assertTrue(near(row['on_time_pct'], 100 * sum(x <= 8.5 * 24 for x in d) / len(d),
                             0.05))

    def test_holds_and_delays(self):
        row, = self.json('holds', PORT)
        held = [f for f in self.units if 'hold' in f]
        rel = sorted(hours(f['rels'] - f['hold']) for f in held if 'rels' in f)
        self.assertEqual((row['holds'], row['released'], row['open']),
                         (len(held), len(rel), len(held) - len(rel)))
        for col, v in (('min_h', rel[0]), ('mean_h', sum(rel) / len(rel)),
                       ('p50_h', model.nearest_rank(rel, 50)),
                       ('p90_h', model.nearest_rank(rel, 90)), ('max_h', rel[-1])):
            self.assertTrue(near(row[col], v, 0.005), (col, row))
        self.assertEqual([r['holds'] for r in self.json('holds') if r['leg'] != PORT],
                         [0] * (len(self.json('legs')) - 1))

        events, units = {}, {}
        for f in self.units:
            for r in f['reasons']:
                events[r] = events.get(r, 0) + 1
                units.setdefault(r, set()).add(f['box'])
        want = sorted(events, key=lambda r: (-events[r], r))
        got = self.json('delays')
        self.assertEqual([(r['reason'], r['events'], r['units']) for r in got],
                         [(r, events[r], len(units[r])) for r in want])
        self.assertEqual([r['reason'] for r in self.json('delays', SEA)], ['STR'])

    def test_quality(self):
        rows = {r['carrier']: r for r in self.json('quality')}
        self.assertEqual(sorted(rows), ['KMTF', 'KTZE', 'PTCH'])
        for carrier, phases in self.ups.items():
            stored = [u for p in phases for u in p if u not in self.bad]
            r = rows[carrier]
            self.assertEqual(r['duplicates'], 0, carrier)
            self.assertEqual(r['retractions'],
                             sum(1 for u in stored if 'retracts_message_id' in u), carrier)
            # lag = record time - event time of the ACT updates; recorded while push ran
            early = model.quality(stored, carrier, self.push_started)
            late = model.quality(stored, carrier, self.push_ended)
            self.assertEqual((r['updates'], r['pln_est']),
                             (early['updates'], early['pln_est']), carrier)
            early, late = early['lags_h'], late['lags_h']
            lo, hi = max(0.0, early[-1]), late[-1]
            self.assertTrue(lo - 0.01 <= r['lag_max_h'] <= hi + 0.01, (carrier, r, lo, hi))
            for p in (50, 90):
                # a rank either way: whether a retracted update's lag still counts
                rank = max(1, math.ceil(p * len(early) / 100)) - 1
                lo = max(0.0, early[max(0, rank - 1)]) * (1 - PCT_TOL) - 0.01
                hi = late[min(len(late) - 1, rank + 1)] * (1 + PCT_TOL) + 0.01
                self.assertTrue(lo <= r['lag_p%d_h' % p] <= hi, (carrier, p, r, lo, hi))
        # the arrivals of containers 20 and 21 came before their departures
        self.assertEqual(rows['KTZE']['out_of_order'], 2)
        self.assertEqual((rows['KTZE']['rejected'], rows['KTZE']['rejected_by_reason']),
                         (2, 'BAD_CHECK_DIGIT:2'))
        self.assertEqual((rows['PTCH']['rejected'], rows['PTCH']['rejected_by_reason']),
                         (0, None))
        one = self.json('quality', 'KMTF')
        self.assertEqual([r['carrier'] for r in one], ['KMTF'])

    def test_intransit(self):
        rows = {r['leg']: r for r in self.json('intransit')}
        old, new = self.transit
        rail = rows[RAIL]
        self.assertEqual((rail['units'], rail['over_typical']), (2, 1))
        age = hours(time.time() * 1000 - old['t0'])
        self.assertTrue(abs(rail['oldest_h'] - age) < 0.2, (rail, age))
        # none of the six containers' port exits was reported, but all six were
        # loaded on the Caspian vessel since (downstream): closed there, inferred
        port = rows[PORT]
        self.assertEqual((port['units'], port['over_typical']), (0, 0))
        self.assertEqual([r['unit'] for r in self.json('intransit', RAIL)],
                         [old['box'], new['box']])

    # ------------------------------------------------------ CSV and the tables
    def test_csv_matches_json(self):
        for args in (['stats', RAIL], ['ontime'], ['volumes', RAIL, 'week'],
                     ['journeys', 'ALK', 'BAK'], ['holds'], ['delays'], ['quality'],
                     ['intransit']):
            js, cs = self.json(*args), self.csv_rows(*args)
            self.assertEqual(len(js), len(cs), args)
            for j, c in zip(js, cs):
                self.assertEqual(list(j), list(c), args)
                for k, v in j.items():
                    if v is None:
                        self.assertEqual(c[k], '', (args, k))
                    elif isinstance(v, (int, float)):
                        self.assertEqual(float(c[k]), v, (args, k))
                    else:
                        self.assertEqual(c[k], v, (args, k))

    def test_tables_fit_the_width(self):
        commands = (['stats', '*'], ['ontime'], ['volumes', '*', 'day'],
                    ['journeys', 'ALK', 'BAK'], ['holds'], ['delays'], ['quality'],
                    ['intransit'], ['intransit', RAIL], ['legs'], ['histogram', RAIL])
        for args in commands:
            full = self.table(1000, *args).splitlines()
            self.assertFalse(any('hidden' in line for line in full), args)
            for width in WIDTHS:
                out = self.table(width, *args)
                wide = [line for line in out.splitlines() if len(line) > width]
                self.assertEqual(wide, [], 'COLUMNS=%d %s' % (width, ' '.join(args)))
                self.assertTrue(out.strip(), args)
        # what goes first is documented (man/corridorctl.1): the hidden columns
        # are the first of STATS' list, named in a footnote; p50/p90 stay
        cols = list(self.json('stats', '*')[0])
        for width in WIDTHS:
            out = self.table(width, 'stats', '*')
            shown = out.splitlines()[0].split()
            hidden = [c for c in cols if c not in shown]
            self.assertEqual(bool(hidden), width <= 80, (width, out))
            self.assertEqual(sorted(hidden), sorted(STATS_DROP_ORDER[:len(hidden)]), width)
            self.assertEqual('(hidden to fit %d columns:' % width in out, bool(hidden), width)
            for c in ('leg', 'n', 'p50_h', 'p90_h'):
                self.assertIn(c, shown, width)

    # ------------------------------------------------------------- histogram
    def parse_drawing(self, out):
        lines = out.splitlines()
        m = re.search(r'\bn (\d+), p50 ([\d.]+) h, p90 ([\d.]+) h, typical ([\d.]+) h, '
                      r'bins of ([\d.]+) h', ' '.join(lines[:4]))
        self.assertIsNotNone(m, out)
        bars = []
        for line in lines:
            b = re.match(r'^\s*([\d.]+)-([\d.]+)\s*\|(#*)\s*(\d+)(?: < (.*))?$', line)
            if b:
                bars.append(dict(lo=float(b.group(1)), hi=float(b.group(2)),
                                 bar=len(b.group(3)), count=int(b.group(4)),
                                 marks=(b.group(5) or '').split()))
        return dict(n=int(m.group(1)), p50=float(m.group(2)), p90=float(m.group(3)),
                    typical=float(m.group(4)), width=float(m.group(5))), bars

    def test_histogram_drawing(self):
        stats, = self.json('stats', RAIL)
        for cols in WIDTHS:
            out = self.table(cols, 'histogram', RAIL)
            head, bars = self.parse_drawing(out)
            self.assertEqual(head['n'], UNITS)
            self.assertEqual((head['p50'], head['p90'], head['typical']),
                             (stats['p50_h'], stats['p90_h'], TYPICAL[RAIL]))
            self.assertTrue(12 <= len(bars) <= 30, (len(bars), out))
            self.assertEqual(sum(b['count'] for b in bars), UNITS, out)
            top = max(b['count'] for b in bars)
            longest = max(b['bar'] for b in bars)
            for b in bars:
                self.assertAlmostEqual(b['hi'] - b['lo'], head['width'], places=6)
                self.assertEqual(b['bar'] == 0, b['count'] == 0, out)
                self.assertLessEqual(abs(b['bar'] - b['count'] * longest / top), 1, out)
            for a, b in zip(bars, bars[1:]):
                self.assertEqual(a['hi'], b['lo'])
            for mark, at in (('p50', head['p50']), ('p90', head['p90']),
                             ('typical', head['typical'])):
                marked = [b for b in bars if mark in b['marks']]
                self.assertEqual(len(marked), 1, (mark, out))
                self.assertTrue(marked[0]['lo'] <= at < marked[0]['hi'], (mark, out))
        # the bins' counts against the exact durations: each bucket (2% wide)
        # lands in the bin of its middle, so a bin edge e has between
        # #(d < e / 1.02) and #(d <= e * 1.02) durations below it
        js = self.json('histogram', RAIL)
        self.assertEqual((js['leg'], js['n'], js['typical_h']), (RAIL, UNITS, TYPICAL[RAIL]))
        d = [f['d'] for f in self.units]
        below = 0
        for b in js['bins']:
            below += b['count']
            edge = b['upper_h']
            self.assertTrue(sum(x < edge / 1.02 for x in d) <= below <=
                            sum(x <= edge * 1.02 for x in d), (edge, below))
        self.assertEqual(below, UNITS)
        rows = self.csv_rows('histogram', RAIL, '--bin', '10')
        self.assertEqual(sum(int(r['count']) for r in rows), UNITS)
        self.assertTrue(all(float(r['upper_h']) - float(r['lower_h']) == 10 for r in rows))
        # an empty window: n 0, no bars, still a clean exit
        out = self.table(80, 'histogram', RAIL, '--direction', 'E')
        self.assertIn('n 0', out)

    # ------------------------------------------------------------------ watch
    def watch(self, args, seconds, port=None):
        """Runs corridorctl --watch (stdout a pipe), stops it with SIGINT after
        seconds; (exit code, stdout, stderr)."""
        cmd = [harness.CORRIDORCTL, '--port', str(port or self.daemon.query_port)] + args
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(seconds)
            self.assertIsNone(p.poll(), 'corridorctl --watch ended by itself')
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=10)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        return p.returncode, out, err

    def test_watch_refreshes(self):
        rc, out, err = self.watch(['--watch', '0.5', 'stats', RAIL], 2.2)
        self.assertEqual(rc, 0, err)
        stamps = re.findall(r'^# refreshed (\S+Z) \(every 0.5s\): stats %s$' % RAIL, out, re.M)
        self.assertGreaterEqual(len(stamps), 2, out)
        tables = out.split('# refreshed ')[1:]
        for t in tables:
            self.assertIn('KZ-RAIL-ALT-AKT', t)
        # --json under --watch: each refresh is a whole JSON document
        rc, out, err = self.watch(['--json', 'volumes', RAIL, 'month', '--watch', '0.4'], 1.5)
        self.assertEqual(rc, 0, err)
        docs = re.split(r'^# refreshed .*\n', out, flags=re.M)[1:]
        self.assertGreaterEqual(len(docs), 2, out)
        for doc in docs:
            self.assertEqual(json.loads(doc)[0]['leg'], RAIL)
        # info (the metrics endpoint) refreshes the same way
        rc, out, err = self.watch(['--watch', '0.4', 'info'], 1.5, port=self.metrics_port)
        self.assertEqual(rc, 0, err)
        self.assertGreaterEqual(out.count('# refreshed '), 2, out)
        self.assertIn('updates stored', out)

    def test_watch_on_a_terminal(self):
        """Under a pseudo-terminal of 12 x 60 (TIOCGWINSZ, no COLUMNS): the
        screen is cleared and redrawn, and no frame is wider or taller."""
        rows, cols = 12, 60
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
        env = {k: v for k, v in os.environ.items() if k not in ('COLUMNS', 'LINES')}
        p = subprocess.Popen([harness.CORRIDORCTL, '--port', str(self.daemon.query_port),
                              '--watch', '0.4', 'intransit'], stdin=subprocess.DEVNULL,
                             stdout=slave, stderr=subprocess.PIPE, env=env)
        os.close(slave)
        out = b''
        try:
            deadline = time.monotonic() + 1.8
            while time.monotonic() < deadline:
                ready, _, _ = select.select([master], [], [], 0.1)
                if ready:
                    out += os.read(master, 65536)
            self.assertIsNone(p.poll(), 'corridorctl --watch ended by itself')
            p.send_signal(signal.SIGINT)
            self.assertEqual(p.wait(timeout=10), 0, p.stderr.read())
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stderr.close()
            os.close(master)
        frames = out.decode('utf-8', 'replace').split('\x1b[H\x1b[2J')[1:]
        self.assertGreaterEqual(len(frames), 2, out)
        for frame in frames[:-1]:          # the last one may be cut by SIGINT
            lines = frame.replace('\r\n', '\n').split('\n')
            self.assertLessEqual(len(lines), rows, frame)
            self.assertEqual([line for line in lines if len(line) > cols], [], frame)
            self.assertIn('corridorctl intransit', frame)
            self.assertRegex(frame, r'refreshed\s+\S+Z')
            self.assertIn('KZ-BRD-ALT', frame)
            self.assertRegex(frame, r'\((\d+) more lines\)$')   # 12 legs do not fit

    def test_watch_survives_no_daemon(self):
        port = harness.free_port()     # nobody listens there
        rc, out, err = self.watch(['--watch', '0.3', 'ontime'], 1.5, port=port)
        self.assertEqual(rc, 0, err)
        self.assertGreaterEqual(len(re.findall(r'^# refresh failed .*cannot connect', out,
                                               re.M)), 2, out)
        self.assertIn('cannot connect', err)

    def test_usage_errors(self):
        for args in (['histogram', '*'], ['volumes', RAIL, 'year'], ['ontime', '--direction', 'N'],
                     ['holds', '--from', 'yesterday'], ['journeys', 'ALK'],
                     ['quality', '--carrier', 'KTZE'], ['--watch', '0.01', 'stats', RAIL],
                     ['--watch', 'backup', 'x'], ['stats', 'A B']):
            p = self.ctl_run(args, check=False)
            self.assertEqual(p.returncode, 64, (args, p.stderr))
            self.assertTrue(p.stderr.startswith('corridorctl: '), (args, p.stderr))
        p = self.ctl_run(['ontime', 'NOPE'], check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn('UNKNOWN_LEG', p.stderr)
        # a lasting error ends --watch at once, with the error
        p = self.ctl_run(['--watch', '0.3', 'holds', 'NOPE'], check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn('UNKNOWN_LEG', p.stderr)


def iso_week(ms):
    """'2026-W45': the ISO year and week of a UTC time."""
    y, w, _ = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc).isocalendar()
    return '%04d-W%02d' % (y, w)


if __name__ == '__main__':
    harness.main()
