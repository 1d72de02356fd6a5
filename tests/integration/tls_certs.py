"""Certificates for the TLS tests, made at test time with the openssl command
(no key is checked in): a CA, a server certificate for 127.0.0.1 and
localhost, and client certificates whose subject CN and DNS names are given.
EC P-256 keys, so making them takes milliseconds."""
import os
import ssl
import subprocess
import tempfile


def _run(*args):
    subprocess.run(['openssl'] + list(args), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


class Pki:
    """One CA in a directory; ca, server() and client() return file paths."""

    def __init__(self, directory=None, name='corridor test CA'):
        self.dir = directory or tempfile.mkdtemp(prefix='corridor-pki-')
        self.ca_key = os.path.join(self.dir, 'ca.key')
        self.ca = os.path.join(self.dir, 'ca.crt')
        self._serial = 1
        _run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
             '-nodes', '-keyout', self.ca_key, '-out', self.ca, '-days', '2', '-subj',
             '/CN=%s' % name, '-addext', 'basicConstraints=critical,CA:TRUE',
             '-addext', 'keyUsage=critical,keyCertSign,cRLSign')

    def _issue(self, stem, subject, extensions):
        key = os.path.join(self.dir, stem + '.key')
        csr = os.path.join(self.dir, stem + '.csr')
        crt = os.path.join(self.dir, stem + '.crt')
        ext = os.path.join(self.dir, stem + '.ext')
        with open(ext, 'w', encoding='ascii') as f:
            f.write('\n'.join(extensions) + '\n')
        _run('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
             '-keyout', key, '-out', csr, '-subj', subject)
        self._serial += 1
        _run('x509', '-req', '-in', csr, '-CA', self.ca, '-CAkey', self.ca_key,
             '-set_serial', str(self._serial), '-days', '2', '-out', crt, '-extfile', ext)
        return crt, key

    def server(self, stem='server'):
        """(cert, key) for 127.0.0.1 and localhost."""
        return self._issue(stem, '/CN=corridord', [
            'basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature',
            'extendedKeyUsage=serverAuth', 'subjectAltName=IP:127.0.0.1,DNS:localhost'])

    def client(self, cn, dns=(), stem=None):
        """(cert, key) of a client whose subject CN is cn and DNS names dns."""
        ext = ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature',
               'extendedKeyUsage=clientAuth']
        if dns:
            ext.append('subjectAltName=' + ','.join('DNS:' + d for d in dns))
        return self._issue(stem or 'client-%s-%d' % (cn, self._serial), '/CN=%s' % cn, ext)

    def client_context(self, cert=None, key=None, ca=None):
        """An ssl.SSLContext that trusts this CA (or ca) and presents cert."""
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca or self.ca)
        if cert is not None:
            ctx.load_cert_chain(cert, key)
        return ctx
