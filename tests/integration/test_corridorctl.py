#!/usr/bin/python3
"""corridorctl against a real corridord: `push` the scenario's updates from
JSONL files, then `stats --json`, `intransit --json`, `shipment --json` and
`--csv` must agree with the figures computed here from the documented rules.
Standard library only."""
import csv
import io
import json
import os
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corridor_model as model  # noqa: E402
import harness  # noqa: E402

CTL_TIMEOUT_S = 60


class Corridorctl(harness.DaemonTestCase):

    def setUp(self):
        harness.require_binary(harness.CORRIDORCTL, 'corridorctl')
        super().setUp()
        self.legs = model.load_legs(harness.SOURCE_DIR)
        self.kinds = dict(self.legs)
        self.base = model.scenario_base_ms()
        self.phases = model.scenario(self.base)
        self.good = model.stored(self.phases)
        self.travs = model.traversals(self.good, self.kinds)
        self.tmp = tempfile.mkdtemp(prefix='corridorctl-test-', dir=self.daemon.state_dir)

    def ctl(self, *args, port=None, check=True):
        cmd = [harness.CORRIDORCTL, '--port', str(port or self.daemon.query_port)] + list(args)
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=CTL_TIMEOUT_S)
        if check and p.returncode != 0:
            self.fail('%s exited %d\nstdout:\n%s\nstderr:\n%s\ndaemon:\n%s' % (
                ' '.join(cmd), p.returncode, p.stdout, p.stderr, self.daemon.log_tail()))
        return p

    def ctl_json(self, *args):
        out = self.ctl('--json', *args).stdout
        try:
            rows = json.loads(out)
        except ValueError as e:
            self.fail('%s: not JSON (%s): %r' % (' '.join(args), e, out[:500]))
        self.assertIsInstance(rows, list, args)
        return rows

    def push_all(self):
        """One JSONL file per carrier, in the order the scenario sends."""
        by_carrier = {}
        for u in self.good:
            by_carrier.setdefault(u['carrier'], []).append(model.wire_fields(u))
        for code, updates in sorted(by_carrier.items()):
            path = os.path.join(self.tmp, code + '.jsonl')
            with open(path, 'w', encoding='utf-8') as f:
                for u in updates:
                    f.write(json.dumps(u) + '\n')
            self.ctl('push', '--carrier', code, path, port=self.daemon.carrier_port)

    def stats_args(self, leg, frm, to, direction, carrier):
        args = ['stats', leg]
        for flag, v in (('--from', frm), ('--to', to), ('--direction', direction),
                        ('--carrier', carrier)):
            if v is not None:
                args += [flag, str(v)]
        return args

    def test_ping(self):
        p = self.ctl('ping')
        self.assertIn('PONG', p.stdout)
        p = self.ctl('--json', 'ping')
        self.assertEqual(json.loads(p.stdout)[0]['reply'], 'PONG')

    def test_timeout(self):
        """--timeout bounds how long an answer may stall: a listener that
        accepts and never answers makes corridorctl give up with a message;
        a value out of range is a usage error."""
        for bad in ('0', 'x', '100000'):
            p = self.ctl('--timeout', bad, 'ping', check=False)
            self.assertEqual(p.returncode, 64, p.stderr)
            self.assertIn('--timeout', p.stderr)
        with socket.socket() as silent:
            silent.bind(('127.0.0.1', 0))
            silent.listen(4)
            p = self.ctl('--timeout', '0.5', 'ping', port=silent.getsockname()[1], check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('timed out', p.stderr)
        self.assertIn('PONG', self.ctl('--timeout', '30', 'ping').stdout)

    def test_push_then_stats(self):
        self.push_all()
        for leg, frm, to, d, c in model.stats_cases(self.base):
            args = self.stats_args(leg, frm, to, d, c)
            rows = self.ctl_json(*args)
            self.assertEqual(len(rows), 1, args)
            want = model.stats(self.travs, leg, frm, to, d, c)
            self.assertEqual(model.stats_mismatches(rows[0], want), [], ' '.join(args))
        rows = self.ctl_json('stats', '*')
        self.assertEqual([r['leg'] for r in rows], [code for code, _ in self.legs])
        for got in rows:
            self.assertEqual(model.stats_mismatches(got, model.stats(self.travs, got['leg'])),
                             [], got['leg'])

        # CSV carries the same figures
        out = self.ctl('--csv', 'stats', model.RAIL).stdout
        rows = list(csv.DictReader(io.StringIO(out)))
        self.assertEqual(len(rows), 1)
        self.assertEqual(model.stats_mismatches(rows[0], model.stats(self.travs, model.RAIL)),
                         [])

        rows = self.ctl_json('intransit', model.RAIL)
        self.assertEqual([r['unit'] for r in rows],
                         [t.unit for t in model.in_transit(self.travs, model.RAIL)])
        rows = self.ctl_json('shipment', model.C1)
        self.assertEqual([(r['leg'], r['status']) for r in rows],
                         [(t.leg, 'done') for t in model.journey(self.travs, model.C1)])

    def test_push_again_changes_nothing(self):
        self.push_all()
        before = self.ctl_json('stats', '*')
        self.push_all()    # the same seqs: acknowledged, not stored twice
        self.assertEqual(self.ctl_json('stats', '*'), before)

    def test_push_rejections(self):
        # the scenario's bad updates (all as KTZE): pushed, reported, not stored
        bad = [u for phase in self.phases for u in phase if '_reject' in u]
        path = os.path.join(self.tmp, 'bad.jsonl')
        with open(path, 'w', encoding='utf-8') as f:
            for i, u in enumerate(bad):
                f.write(json.dumps(dict(model.wire_fields(u), seq=i + 1,
                                        message_id='bad-%d' % i)) + '\n')
        p = self.ctl('push', '--carrier', 'KTZE', path, port=self.daemon.carrier_port,
                     check=False)
        self.assertNotEqual(p.returncode, 0, 'push of rejected updates exited 0')
        for u in bad:
            self.assertIn(u['_reject'], p.stdout + p.stderr)
        for got in self.ctl_json('stats', '*'):
            self.assertEqual(int(got['n']), 0, got)

    def test_query_errors_exit_nonzero(self):
        p = self.ctl('stats', 'NOPE', check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('UNKNOWN_LEG', p.stdout + p.stderr)

    def assert_ctl_error(self, code, *args):
        p = self.ctl(*args, check=False)
        self.assertEqual(p.returncode, 2, '%s: exit %d\nstdout: %s\nstderr: %s' % (
            ' '.join(args), p.returncode, p.stdout, p.stderr))
        self.assertTrue(p.stderr.startswith('corridorctl: %s: ' % code), (args, p.stderr))
        self.assertEqual(p.stdout, '', args)
        return p

    def test_not_found_and_empty_windows_are_errors(self):
        # issue 11 item 11: these were an empty table and exit 0
        self.push_all()
        never = model.container('TGHU', 999990)
        self.assert_ctl_error('NOT_FOUND', 'shipment', never)
        self.assert_ctl_error('NOT_FOUND', '--json', 'shipment', never)
        self.assert_ctl_error('NOT_FOUND', 'stats', '*', '--carrier', 'NOPE')
        self.assert_ctl_error('NOT_FOUND', '--csv', 'quality', 'NOPE')
        self.assert_ctl_error('NOT_FOUND', 'journeys', 'NOPE', 'POT')
        p = self.assert_ctl_error('BAD_ARGUMENT', 'stats', '*', '--from', '2026-02-01',
                                  '--to', '2026-01-01')
        self.assertIn('window', p.stderr)
        self.assert_ctl_error('BAD_ARGUMENT', 'query', 'VOLUMES * day 2026-01-02 2026-01-02')
        # what exists still answers
        self.assertTrue(self.ctl_json('shipment', model.C1))
        self.ctl_json('stats', '*', '--carrier', 'POB')

    def test_time_out_of_range(self):
        # issue 11 item 10: was clamped to the 64-bit range and answered
        p = self.assert_ctl_error('BAD_ARGUMENT', 'query', 'STATS * 99999999999999999999')
        self.assertIn('from', p.stderr)
        for flag in ('--from', '--to'):
            p = self.ctl('stats', '*', flag, '99999999999999999999', check=False)
            self.assertEqual(p.returncode, 64, p.stderr)
            self.assertIn(flag, p.stderr)
            self.assertIn('out of range', p.stderr)

    def test_rows_that_begin_with_end(self):
        # A row's first field can be a carrier's word (a delay reason, a unit):
        # "END" or "ENDORSED" there is a row, not the end of the answer.
        u = model.wire_fields(self.good[0])
        path = os.path.join(self.tmp, 'reasons.jsonl')
        with open(path, 'w', encoding='utf-8') as f:
            for i, reason in enumerate(('END', 'ENDORSED', 'WEA')):
                f.write(json.dumps(dict(u, seq=i + 1, message_id='reason-%d' % i,
                                        delay_reason=reason)) + '\n')
        self.ctl('push', '--carrier', u['carrier'], path, port=self.daemon.carrier_port)
        rows = self.ctl_json('query', 'DELAYS *')
        self.assertEqual(sorted(r['reason'] for r in rows), ['END', 'ENDORSED', 'WEA'])


if __name__ == '__main__':
    harness.main()
