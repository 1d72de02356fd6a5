#!/usr/bin/python3
"""The operator query protocol (docs/query-protocol.md): the fixed answers,
and an ERR with the documented code for each kind of bad request, after which
the connection (except for LINE_TOO_LONG) keeps serving. Standard library only."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corridor_model as model  # noqa: E402
import harness  # noqa: E402


class Queries(harness.DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.q = self.daemon.query()
        self.addCleanup(self.q.close)

    def assert_err(self, line, code):
        a = self.q.request(line)
        self.assertFalse(a.ok, '%r answered OK' % line)
        self.assertEqual(a.code, code, '%r: %s' % (line, a.message))
        self.assertTrue(a.message, line)
        # the connection still answers
        self.assertEqual(self.q.ok('PING').rows[0][0], 'PONG')

    def test_ping(self):
        a = self.q.ok('PING')
        self.assertEqual(a.columns, ['reply', 'version', 'protocol'])
        self.assertEqual(a.rows, [['PONG', '0.1.0', '1']])

    def test_case_insensitive_and_crlf(self):
        self.assertEqual(self.q.ok('ping').rows[0][0], 'PONG')
        self.assertEqual(self.q.ok('PiNg').rows[0][0], 'PONG')
        self.q.send_raw(b'PING\r\n')
        self.assertEqual(self.q.read_answer().rows[0][0], 'PONG')

    def test_pipelined_requests(self):
        self.q.send_raw(b'PING\nLEGS\nSTATS NOPE\nPING\n')
        self.assertEqual(self.q.read_answer().rows[0][0], 'PONG')
        self.assertEqual(len(self.q.read_answer().rows), 12)
        self.assertEqual(self.q.read_answer().code, 'UNKNOWN_LEG')
        self.assertEqual(self.q.read_answer().rows[0][0], 'PONG')

    def test_help(self):
        a = self.q.ok('HELP')
        self.assertEqual(a.columns, ['command', 'usage'])
        commands = {r[0].upper() for r in a.rows}
        for c in ('PING', 'HELP', 'LEGS', 'STATS', 'INTRANSIT', 'SHIPMENT', 'QUIT'):
            self.assertIn(c, commands)

    def test_legs(self):
        a = self.q.ok('LEGS')
        self.assertEqual(a.columns, ['leg', 'from', 'to', 'country', 'kind', 'mode',
                                     'distance_km', 'min_h', 'typical_h', 'bad_h', 'from_node', 'to_node'])
        legs = model.load_legs(harness.SOURCE_DIR)
        self.assertEqual([(r[0], r[4]) for r in a.rows], legs)
        rail = [r for r in a.rows if r[0] == model.RAIL][0]
        self.assertEqual(rail[1:4], ['Altynkol', 'Aktau port station', 'KZ'])
        self.assertEqual([float(x) for x in rail[6:10]], [3200, 84, 120, 240])
        self.assertEqual(rail[10:], ['ALK', 'AKT'])

    def test_quit(self):
        self.q.send_raw(b'QUIT\n')
        self.assertEqual(self.q.reader.readline(), b'')

    def test_unknown_command(self):
        self.assert_err('FROB', 'UNKNOWN_COMMAND')
        self.assert_err('STAT KZ-PORT-AKT', 'UNKNOWN_COMMAND')

    def test_empty_line(self):
        # an empty line is not a command: either ignored or UNKNOWN_COMMAND /
        # BAD_ARGUMENT, but the connection must go on
        self.q.send_raw(b'\nPING\n')
        a = self.q.read_answer()
        if not a.ok:
            self.assertIn(a.code, ('UNKNOWN_COMMAND', 'BAD_ARGUMENT'))
            a = self.q.read_answer()
        self.assertEqual(a.rows[0][0], 'PONG')

    def test_bad_arguments(self):
        for line in ('STATS', 'SHIPMENT', 'STATS KZ-PORT-AKT yesterday',
                     'STATS KZ-PORT-AKT 2026-13-01', 'STATS KZ-PORT-AKT - 2026-11-31T25:00Z',
                     'STATS KZ-PORT-AKT - - N', 'STATS KZ-PORT-AKT - - w-e',
                     'STATS KZ-PORT-AKT - - W KTZE extra', 'PING extra',
                     'LEGS extra', 'INTRANSIT KZ-PORT-AKT extra', 'SHIPMENT a b'):
            self.assert_err(line, 'BAD_ARGUMENT')

    def test_bad_bytes(self):
        self.q.send_raw(b'PING \x01\n')
        a = self.q.read_answer()
        self.assertFalse(a.ok)
        self.assertIn(a.code, ('BAD_ARGUMENT', 'UNKNOWN_COMMAND'))
        self.assertEqual(self.q.ok('PING').rows[0][0], 'PONG')

    def test_unknown_leg(self):
        self.assert_err('STATS NOPE', 'UNKNOWN_LEG')
        self.assert_err('STATS kz-port-akt', 'UNKNOWN_LEG')
        self.assert_err('INTRANSIT NOPE', 'UNKNOWN_LEG')
        self.assert_err('STATS NOPE 2026-01-01 2026-02-01 W KTZE', 'UNKNOWN_LEG')

    def test_optional_arguments(self):
        for line in ('STATS KZ-PORT-AKT', 'STATS KZ-PORT-AKT - - W', 'STATS KZ-PORT-AKT * * E',
                     'STATS KZ-PORT-AKT 2026-01-01', 'STATS KZ-PORT-AKT - 1767225600000',
                     'STATS KZ-PORT-AKT 2026-01-01T00:00Z 2026-02-01T00:00:00Z - PTCH',
                     'stats kz-port-akt', 'INTRANSIT *', 'INTRANSIT -'):
            a = self.q.request(line)
            if line == 'stats kz-port-akt':
                # commands are case-insensitive; leg codes are not
                self.assertEqual(a.code, 'UNKNOWN_LEG', line)
                continue
            self.assertTrue(a.ok, '%s: %s %s' % (line, a.code, a.message))

    def test_overlong_line(self):
        limit = 1024
        # well within the limit: an ordinary answer
        a = self.q.request('STATS ' + 'X' * (limit - 100))
        self.assertEqual(a.code, 'UNKNOWN_LEG')
        # far above: LINE_TOO_LONG, then the connection is closed
        self.q.send_raw(b'STATS ' + b'X' * (2 * limit) + b'\n')
        a = self.q.read_answer()
        self.assertEqual(a.code, 'LINE_TOO_LONG')
        try:
            rest = self.q.reader.readline()
        except (ConnectionResetError, socket.timeout):
            rest = b''
        self.assertEqual(rest, b'')
        self.assert_alive()

    def test_overlong_line_without_newline(self):
        # the daemon must not wait for a newline that never comes
        self.q.send_raw(b'P' * 5000)
        a = self.q.read_answer()
        self.assertEqual(a.code, 'LINE_TOO_LONG')
        self.assert_alive()


class RowLimit(harness.DaemonTestCase):
    daemon_args = ('--limit', 'max_query_rows=5')

    def test_too_many_rows(self):
        with self.daemon.query() as q:
            a = q.request('LEGS')
            self.assertFalse(a.ok)
            self.assertEqual(a.code, 'TOO_MANY_ROWS')
            self.assertEqual(q.ok('PING').rows[0][0], 'PONG')
            self.assertEqual(q.request('STATS *').code, 'TOO_MANY_ROWS')
            self.assertEqual(len(q.ok('STATS KZ-PORT-AKT').rows), 1)


class UnreadAnswers(harness.DaemonTestCase):
    """A peer that pipelines queries without reading the answers: the daemon
    stops taking its lines once output_buffer_bytes wait unread, and answers
    every one, in order, once the peer reads."""
    daemon_args = ('--limit', 'output_buffer_bytes=65536')

    def test_pipelined_without_reading(self):
        n = 2000    # ~1.3 KB of LEGS answer each: more than the socket buffers hold
        with self.daemon.query() as q:
            q.send_raw(b'LEGS\n' * n + b'PING\n')
            time.sleep(1.0)
            # meanwhile the daemon serves others
            self.assert_alive()
            for _ in range(n):
                self.assertEqual(len(q.read_answer().rows), 12)
            self.assertEqual(q.read_answer().rows[0][0], 'PONG')


if __name__ == '__main__':
    harness.main()
