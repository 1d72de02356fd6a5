#!/usr/bin/python3
"""The query port's input checks and NOT_FOUND (issue 11, items 9-11,
docs/query-protocol.md): a byte that is not printable ASCII anywhere in a line
(a NUL too) is BAD_ARGUMENT naming its position, never a cut line whose prefix
runs; a time beyond 64 bits or year 9999 is BAD_ARGUMENT naming the argument,
never clamped; a window whose from is not before its to is BAD_ARGUMENT; a unit
never reported, a carrier or node not configured is NOT_FOUND, while known ones
with nothing in the window still answer OK. Standard library only."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corridor_model as model  # noqa: E402
import harness  # noqa: E402

CTL_TIMEOUT_S = 60
NEVER = model.container('TGHU', 999990)   # a valid container number nobody reports
PLAN_ONLY = model.container('TGHU', 999991)  # only a planned exit: no traversal


class QueryCase(harness.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.q = self.daemon.query()
        self.addCleanup(self.q.close)

    def raw(self, data):
        self.q.send_raw(data)
        return self.q.read_answer()

    def assert_err(self, line, code, *words):
        a = self.raw(line) if isinstance(line, bytes) else self.q.request(line)
        self.assertFalse(a.ok, '%r answered OK: %r' % (line, a))
        self.assertEqual(a.code, code, '%r: %s %s' % (line, a.code, a.message))
        for w in words:
            self.assertIn(w, a.message, line)
        # the connection still answers
        self.assertEqual(self.q.ok('PING').rows[0][0], 'PONG')
        return a


class LineBytes(QueryCase):
    """Item 9: the whole line is checked, with its length, before it is read
    as a string."""

    def test_nul_is_refused_with_its_position(self):
        # old: "PING" ran and answered OK
        self.assert_err(b'PING\x00 whatever\n', 'BAD_ARGUMENT', 'byte 5', '0x00')
        self.assert_err(b'STATS * \x00\n', 'BAD_ARGUMENT', 'byte 9')
        self.assert_err(b'\x00\n', 'BAD_ARGUMENT', 'byte 1')
        # a NUL must not turn a line into QUIT or AUTH either
        self.assert_err(b'QUIT\x00 no\n', 'BAD_ARGUMENT', 'byte 5')
        self.assert_err(b'AUTH %s\x00 x\n' % harness.ADMIN_TOKEN[0].encode(), 'BAD_ARGUMENT',
                        'byte %d' % (6 + len(harness.ADMIN_TOKEN[0])))
        self.assertIn('reason=bad_byte pos=5 byte=0x00', self.daemon.log_text())

    def test_other_bytes_name_their_position(self):
        for data, pos in ((b'PING \x01\n', 6), (b'PING\x7f\n', 5), (b'LEGS \xc3\xa9\n', 6),
                          (b'PI\rNG\n', 3), (b'PING\r\r\n', 5), (b'\x1b[A\n', 1),
                          (b'PING\x0b\n', 5)):
            self.assert_err(data, 'BAD_ARGUMENT', 'byte %d ' % pos, 'not printable ASCII')

    def test_nc_lines_still_work(self):
        # LF, CR LF, tabs and spaces between words, pipelined with a bad line
        self.assertEqual(self.raw(b'PING\r\n').rows[0][0], 'PONG')
        self.assertEqual(self.raw(b'\tPING \t\n').rows[0][0], 'PONG')
        self.q.send_raw(b'PING\nPI\x00NG\nSTATS\tKZ-PORT-AKT\t-\t-\tW\r\n')
        self.assertEqual(self.q.read_answer().rows[0][0], 'PONG')
        a = self.q.read_answer()
        self.assertEqual((a.code, 'byte 3' in a.message), ('BAD_ARGUMENT', True), a)
        self.assertTrue(self.q.read_answer().ok)


class TimeRange(QueryCase):
    """Item 10: no clamping; the error names the argument."""

    def test_numbers_beyond_64_bits(self):
        # old: clamped to the int64 range and answered OK
        self.assert_err('STATS * 99999999999999999999', 'BAD_ARGUMENT', 'from', 'range')
        self.assert_err('STATS * - 99999999999999999999', 'BAD_ARGUMENT', 'to ', 'range')
        self.assert_err('STATS * -99999999999999999999', 'BAD_ARGUMENT', 'from', 'range')
        self.assert_err('STATS * 1000000000000 9223372036854775808', 'BAD_ARGUMENT', 'to ', 'range')
        self.assert_err('QUALITY * - 99999999999999999999', 'BAD_ARGUMENT', 'to ', 'range')
        self.assert_err('JOURNEYS ALK POT 99999999999999999999', 'BAD_ARGUMENT', 'from')
        self.assert_err('VOLUMES * day - 18446744073709551616', 'BAD_ARGUMENT', 'to ')

    def test_years_beyond_9999(self):
        self.assert_err('STATS * 10000-01-01', 'BAD_ARGUMENT', 'from', 'range')
        self.assert_err('ONTIME * - 99999999-12-31T00:00Z', 'BAD_ARGUMENT', 'to ', 'range')

    def test_bad_time_names_the_argument(self):
        self.assert_err('STATS * yesterday', 'BAD_ARGUMENT', 'from', 'not a time')
        self.assert_err('HOLDS * - 2026-13-01', 'BAD_ARGUMENT', 'to ', 'not a time')

    def test_the_whole_range_still_answers(self):
        for line in ('STATS * -9223372036854775808 9223372036854775807',
                     'STATS * 9999-12-31', 'QUALITY * - 9223372036854775807'):
            a = self.q.request(line)
            self.assertTrue(a.ok, '%s: %s %s' % (line, a.code, a.message))


class Windows(QueryCase):
    """Item 11: an empty or inverted window is BAD_ARGUMENT, not an empty OK."""

    def test_inverted_and_empty_windows(self):
        for line in ('STATS * 2026-02-01 2026-01-01', 'STATS KZ-PORT-AKT 2026-01-01 2026-01-01',
                     'HISTOGRAM KZ-PORT-AKT 2026-02-01 2026-01-01',
                     'ONTIME * 1767225600000 1767225599999', 'VOLUMES * day 2026-02-01 2026-01-01',
                     'JOURNEYS ALK POT 2026-02-01 2026-01-01', 'HOLDS * 2026-02-01 2026-01-01',
                     'DELAYS * 2026-02-01 2026-01-01', 'QUALITY * 2026-02-01 2026-01-01',
                     'QUALITY KTZE 2026-01-01T10:00Z 2026-01-01T10:00Z',
                     'STATS * 9223372036854775807'):
            self.assert_err(line, 'BAD_ARGUMENT', 'window', 'not before')

    def test_windows_without_a_whole_hour(self):
        # VOLUMES and QUALITY round from and to down to the hour
        for line in ('VOLUMES * day 2026-01-01T10:15Z 2026-01-01T10:45Z',
                     'QUALITY * 2026-01-01T10:15Z 2026-01-01T10:59:59Z'):
            self.assert_err(line, 'BAD_ARGUMENT', 'whole hour')
        self.assertTrue(self.q.request('VOLUMES * day 2026-01-01T10:15Z 2026-01-01T11:00Z').ok)

    def test_windows_still_answer(self):
        for line in ('STATS * 2026-01-01 2026-01-01T00:00:00.001Z', 'STATS * 2026-01-01',
                     'STATS * - 2026-01-01', 'QUALITY * 2026-01-01 2026-01-02'):
            a = self.q.request(line)
            self.assertTrue(a.ok, '%s: %s %s' % (line, a.code, a.message))


def push_scenario(test, daemon, extra=()):
    """The end-to-end scenario's stored updates (and extra), by corridorctl push."""
    tmp = tempfile.mkdtemp(prefix='query-checks-')
    test.addCleanup(shutil.rmtree, tmp, True)
    base = model.scenario_base_ms()
    by_carrier = {}
    for u in model.stored(model.scenario(base)):
        by_carrier.setdefault(u['carrier'], []).append(model.wire_fields(u))
    for u in extra:    # after the carrier's last sequence number
        mine = by_carrier.setdefault(u['carrier'], [])
        mine.append(dict(model.wire_fields(u), seq=max([x['seq'] for x in mine] + [0]) + 1))
    for code, updates in sorted(by_carrier.items()):
        path = os.path.join(tmp, code + '.jsonl')
        with open(path, 'w', encoding='utf-8') as f:
            for u in updates:
                f.write(json.dumps(u) + '\n')
        p = subprocess.run([harness.CORRIDORCTL, '--port', str(daemon.carrier_port), 'push',
                            '--carrier', code, path], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=CTL_TIMEOUT_S)
        test.assertEqual(p.returncode, 0, p.stdout + p.stderr)
    return base


def plan_only_update(base):
    """A planned exit of a unit that never entered: stored, makes no traversal."""
    return dict(model.ev('KTZE', 'ARRI', 0, model.RAIL, classifier='PLN', container=PLAN_ONLY),
                message_id='plan-only-1', event_time_ms=base + 30 * model.HOUR_MS)


class NotFound(QueryCase):
    """Item 11: what does not exist is NOT_FOUND; what exists but has nothing
    to show is still an OK."""

    def setUp(self):
        harness.require_binary(harness.CORRIDORCTL, 'corridorctl')
        super().setUp()
        self.base = push_scenario(self, self.daemon, [plan_only_update(model.scenario_base_ms())])

    def test_units(self):
        self.assert_err('SHIPMENT ' + NEVER, 'NOT_FOUND', NEVER)
        self.assert_err('SHIPMENT NOPE', 'NOT_FOUND')
        self.assertTrue(self.q.ok('SHIPMENT ' + model.C1).rows)
        # reported, but no traversal (a plan only): a known unit with nothing to show
        a = self.q.ok('SHIPMENT ' + PLAN_ONLY)
        self.assertEqual(a.rows, [])

    def test_carriers(self):
        for line in ('STATS * - - - NOPE', 'STATS %s - - W ktze' % model.RAIL,
                     'HISTOGRAM %s - - - NOPE' % model.RAIL, 'ONTIME * - - - NOPE',
                     'VOLUMES * day - - - NOPE', 'HOLDS * - - - NOPE', 'DELAYS * - - - NOPE',
                     'QUALITY NOPE', 'QUALITY NOPE 2026-01-01'):
            self.assert_err(line, 'NOT_FOUND', 'carrier')
        # configured carriers answer, with data (KTZE) or without (POB)
        for line in ('STATS %s - - - KTZE' % model.RAIL, 'STATS * - - - POB', 'QUALITY POB',
                     'VOLUMES * day - - - POB', 'QUALITY KTZE'):
            a = self.q.request(line)
            self.assertTrue(a.ok, '%s: %s %s' % (line, a.code, a.message))
        self.assertEqual(self.q.ok('STATS %s - - - KTZE' % model.RAIL).dicts()[0]['n'] != '0',
                         True)

    def test_nodes(self):
        self.assert_err('JOURNEYS NOPE POT', 'NOT_FOUND', 'NOPE')
        self.assert_err('JOURNEYS ALK NOPE 2026-01-01', 'NOT_FOUND', 'NOPE')
        self.assert_err('JOURNEYS alk POT', 'NOT_FOUND', 'alk')
        self.assertEqual(len(self.q.ok('JOURNEYS ALK POT').rows), 2)
        self.assertEqual(len(self.q.ok('JOURNEYS AKT BAK - - E').rows), 1)


class DroppedCarrier(harness.DaemonTestCase):
    """A carrier that a later configuration no longer lists still answers for
    its history (the catalog knows it); one never configured is NOT_FOUND."""

    def test_history_of_a_dropped_carrier(self):
        harness.require_binary(harness.CORRIDORCTL, 'corridorctl')
        push_scenario(self, self.daemon)
        self.stop_daemon()
        conf_dir = tempfile.mkdtemp(prefix='query-checks-conf-')
        self.addCleanup(shutil.rmtree, conf_dir, True)
        kept = [c for c in harness.DEFAULT_CARRIERS if c != 'MCML']
        conf = harness.write_config(os.path.join(conf_dir, 'corridord.conf'), carriers=kept)
        self.daemon = harness.new_daemon(self, state_dir=self.daemon.state_dir,
                                         extra_args=('--config', conf))
        self.daemon.start()
        with self.daemon.query() as q:
            rows = q.ok('STATS %s - - - MCML' % model.RAIL).dicts()
            self.assertNotEqual(rows[0]['n'], '0', rows)
            a = q.request('STATS %s - - - NOPE' % model.RAIL)
            self.assertEqual(a.code, 'NOT_FOUND', a)


if __name__ == '__main__':
    harness.main()
