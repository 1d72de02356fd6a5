#!/usr/bin/python3
"""The query port's flow control (issue 11 items 1-3, 4b): a connection is
read only while a line can be acted on, so lines pipelined behind an AUTH
refusal or a partial line never spin the loop; answers to a client that does
not read stop at output_buffer_bytes (memory stays flat); and a client that
never reads is closed after write_timeout_s."""
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

WRITE_TIMEOUT_S = 3



class QueryConnections:
    def connect(self, rcvbuf=None):
        """rcvbuf: a receive buffer set before connecting, which fixes it (set
        after, loopback autotuning still grows it, here up to tcp_rmem's 32
        MiB, and the kernel can take every answer a test sends for)."""
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(s.close)
        if rcvbuf is not None:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(10)
        s.connect(('127.0.0.1', self.daemon.query_port))
        return s


class QueryFlow(QueryConnections, harness.DaemonTestCase):
    # a small output bound, so that a slow (sanitizer) build fills it soon
    daemon_args = ('--limit', 'write_timeout_s=%d' % WRITE_TIMEOUT_S,
                   '--limit', 'output_buffer_bytes=65536')

    def test_pipelined_lines_behind_a_refusal_do_not_spin(self):
        for _ in range(4):      # a delay of seconds for the next refusal
            s = self.connect()
            s.sendall(b'AUTH nobody wrong\n')
            s.recv(100)
        waiting = self.connect()
        waiting.sendall(b'AUTH nobody wrong\n' + b'PING\n' * 500)
        partial = self.connect()
        partial.sendall(b'S' * 1000)
        time.sleep(0.3)
        c0 = harness.cpu_seconds(self.daemon.pid)
        time.sleep(2)
        used = harness.cpu_seconds(self.daemon.pid) - c0
        print('corridord CPU over 2 s with a refusal waiting and a partial line: %.2f s' % used)
        self.assertLess(used, 0.3)
        # the refusal comes, then every pipelined PING is answered
        waiting.settimeout(20)
        got = b''
        while got.count(b'END 1\n') < 500:
            chunk = waiting.recv(65536)
            self.assertTrue(chunk, 'closed after %d answers' % got.count(b'END 1\n'))
            got += chunk
        self.assertTrue(got.startswith(b'ERR UNAUTHORIZED'), got[:80])
        # a line over the limit still gets ERR and a close
        partial.sendall(b'S' * 100)
        self.assertIn(b'ERR LINE_TOO_LONG', partial.recv(200))
        self.assert_alive()

    def test_a_client_that_never_reads_is_closed(self):
        if harness.sanitized():
            # the kernel's send buffer (MiBs on loopback) must fill first: too slow under ASan
            self.skipTest('sanitizer build: answers too slow to fill the socket buffers')
        s = self.connect(rcvbuf=4096)
        off = harness.send_unread(s, b'PING\n' * 100000, 3)
        deadline = time.monotonic() + WRITE_TIMEOUT_S + 40
        # closed by the write timeout, or by the line deadline when the read
        # stopped (at the read watermark) inside a line: either way closed
        while ('reason=write_timeout' not in self.daemon.log_text() and
               'reason=query_line_deadline' not in self.daemon.log_text()):
            self.assertLess(time.monotonic(), deadline, self.daemon.log_tail())
            time.sleep(0.2)
        self.assert_alive()


class QueryOutputBound(QueryConnections, harness.DaemonTestCase):
    # the same small output bound, and a write timeout far beyond the
    # measurement: a slow (sanitizer) build must not close the connection
    # (dropping what it left unread) before its queues are looked at
    daemon_args = ('--limit', 'write_timeout_s=60', '--limit', 'output_buffer_bytes=65536')

    def test_unread_answers_stop_at_the_output_bound(self):
        rss0 = harness.proc_status_kib(self.daemon.pid, 'VmRSS')
        s = self.connect(rcvbuf=4096)
        off = harness.send_unread(s, b'PING\n' * 100000, 3)
        time.sleep(1.5)
        grown = harness.proc_status_kib(self.daemon.pid, 'VmRSS') - rss0
        queues = harness.tcp_queues(self.daemon.query_port)
        unread = queues.get(s.getsockname()[1], (0, 0))[1]
        print('100,000 PINGs, answers unread: VmRSS grew %d KiB; %d bytes left unread by '
              'corridord in its socket' % (grown, unread))
        self.assertGreater(unread, 0, 'corridord read on although nobody read its answers')
        if not harness.sanitized():
            self.assertLess(grown, 8 * 1024)


if __name__ == '__main__':
    harness.main()
