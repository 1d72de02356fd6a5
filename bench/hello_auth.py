#!/usr/bin/python3
"""Hello-to-Welcome latency with carrier authentication: N carriers (each a
code with its own credential line, PBKDF2 at the given iteration count)
connect one after another, then all at once, to a corridord from the build
tree. Prints one line per iteration count.
usage: bench/hello_auth.py [--carriers N] [--iterations I ...]"""
import argparse
import os
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tests', 'integration'))
import harness  # noqa: E402

harness.ensure_protobuf()
import independent_carrier as ic  # noqa: E402

SECRET = 's3cret-for-the-hello-bench'


def run(iterations, n):
    tmp = tempfile.mkdtemp(prefix='corridor-hello-')
    conf = os.path.join(tmp, 'corridord.conf')
    codes = ['C%03d' % i for i in range(n)]
    harness.write_config(conf, carriers=codes, auth=False,
                         limits={'max_connections_per_ip': n + 16,
                                 # all from loopback: one address, past the default caps
                                 'auth_checks_per_ip': min(n, 1024), 'auth_checks_max': max(n, 256)})
    with open(conf, 'a') as f:
        f.write('[credentials]\n')
        for i in range(0, n, 8):
            f.write('c%d = %s %s\n' % (i, harness.hash_secret(SECRET, iterations),
                                       ' '.join(codes[i:i + 8])))
    d = harness.Daemon(extra_args=['--config', conf, '--metrics-listen', ''])
    d.start()
    try:
        lat = []
        for code in codes:
            c = ic.Carrier(d.carrier_port, code, credential=SECRET)
            t0 = time.monotonic()
            c.hello()
            lat.append((time.monotonic() - t0) * 1000)
            c.close()
        done = []

        def one(code):
            c = ic.Carrier(d.carrier_port, code, credential=SECRET, timeout=120)
            c.hello()
            done.append(code)
            c.close()
        threads = [threading.Thread(target=one, args=(code,)) for code in codes]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        at_once = time.monotonic() - t0
        lat.sort()
        print('iterations=%d carriers=%d sequential_hello_p50_ms=%.1f p99_ms=%.1f '
              'all_at_once_welcomed_s=%.2f' % (iterations, n, statistics.median(lat),
                                                lat[int(0.99 * (n - 1))], at_once))
    finally:
        d.stop()
        d.cleanup()


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--carriers', type=int, default=200)
    p.add_argument('--iterations', type=int, nargs='+', default=[1000, 10000, 100000])
    a = p.parse_args()
    for it in a.iterations:
        run(it, a.carriers)


if __name__ == '__main__':
    main()
