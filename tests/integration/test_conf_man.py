#!/usr/bin/python3
"""corridord.conf(5), as the build writes it from man/corridord.conf.5.in and
the option tables (man/gen_conf_man.c): every option of the tables, as
`corridord --print-config-docs` lists them, has its entry in its section with
its default and its reload flag, and no entry is left over; the page renders
without a warning (groff -man -ww, or man's own check when groff is missing,
else a structural check of the roff); and the generator refuses a template
that names an option the tables do not have."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

PAGE = os.environ.get('CORRIDOR_CONF_MAN') or os.path.join(
    harness.SOURCE_DIR, 'build', 'man', 'corridord.conf.5')
GEN = os.environ.get('GEN_CONF_MAN') or os.path.join(
    harness.SOURCE_DIR, 'build', 'man', 'gen_conf_man')
TEMPLATE = os.path.join(harness.SOURCE_DIR, 'man', 'corridord.conf.5.in')

# the man(7) macros and the roff requests a page may use
MAN_MACROS = {'TH', 'SH', 'SS', 'TP', 'PP', 'LP', 'P', 'IP', 'HP', 'RS', 'RE', 'B', 'I', 'BR',
              'RB', 'BI', 'IB', 'IR', 'RI', 'SM', 'SB', 'nf', 'fi', 'br', 'sp', 'in', 'ti',
              'ne', 'ad', 'na', 'nh', 'hy', 'EX', 'EE', 'UR', 'UE', 'MT', 'ME'}


def options_of_the_tables():
    """(section, name, default, restart) of every option, from the docs generator."""
    docs = subprocess.run([harness.CORRIDORD, '--print-config-docs'], capture_output=True,
                          text=True, check=True).stdout
    found, section = [], None
    for line in docs.splitlines():
        m = re.match(r'^## \[(\w+)\]$', line)
        if m:
            section = m.group(1)
            continue
        cells = [c.strip() for c in line.strip('|').split('|')] if line.startswith('| `') else []
        if not cells:
            continue
        name = cells[0].strip('`')
        if section == 'limits':
            default = cells[1]
        else:
            default = '' if cells[2] == 'empty' else cells[2].strip('`')
        found.append((section, name, default, cells[3] == 'restart'))
    return found


def entries_of_the_page(text):
    """(section, name, default, restart) of every .TP entry written as
    .BR name " = default" and followed by its "(...)" line."""
    found, section = [], None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r'^\.SH (.*)$', line)
        if m:
            section = m.group(1).strip('"[]')
            continue
        m = re.match(r'^\.BR (\w+) " =(?: (.*))?"$', line)
        if m and i > 0 and lines[i - 1] == '.TP':
            default = (m.group(2) or '').replace('\\-', '-')
            what = re.match(r'^\((.*?)\) ', lines[i + 1] if i + 1 < len(lines) else '')
            restart = what is not None and what.group(1).endswith('; restart')
            found.append((section, m.group(1), default, restart))
    return found


def roff_problems(text):
    """What a man page's roff should not have, found without a formatter."""
    problems = []
    lines = text.splitlines()
    code = [(i, l) for i, l in enumerate(lines, 1) if not l.startswith('.\\"')]
    if not code or not code[0][1].startswith('.TH '):
        problems.append('the page does not start with .TH')
    fill = True
    for n, line in code:
        if line.startswith(('.', "'")):
            m = re.match(r"^[.']\s*(\S+)", line)
            word = m.group(1) if m else ''
            if word not in MAN_MACROS:
                problems.append('%d: unknown macro or request %r' % (n, word))
            if word == 'nf':
                fill = False
            elif word == 'fi':
                fill = True
            if line.count('"') % 2:
                problems.append('%d: an unbalanced quote' % n)
        elif fill and line.strip() == '':
            problems.append('%d: an empty line (use .PP)' % n)
        for esc in re.findall(r'\\(.)', line.replace('\\\\', '')):
            if esc not in '-e&"(f|^0 .*':
                problems.append('%d: unknown escape \\%s' % (n, esc))
    for n, line in code:
        if line == '.TP':
            nxt = lines[n] if n < len(lines) else ''
            if nxt == '' or nxt.startswith(('.TP', '.SH', '.PP')):
                problems.append('%d: .TP without its tag' % n)
    return problems


def render_warnings(path):
    """(how, warnings) from rendering the page, with the best tool there is."""
    if shutil.which('groff'):
        r = subprocess.run(['groff', '-man', '-Tutf8', '-ww', '-z', path],
                           capture_output=True, text=True)
        return 'groff', (r.stderr.strip().splitlines() +
                         ([] if r.returncode == 0 else ['groff exit %d' % r.returncode]))
    if shutil.which('man'):
        r = subprocess.run(['man', '--warnings=w', '-l', path], capture_output=True,
                           text=True, env=dict(os.environ, MANPAGER='cat', MAN_KEEP_FORMATTING=''))
        return 'man', (r.stderr.strip().splitlines() +
                       ([] if r.returncode == 0 else ['man exit %d' % r.returncode]))
    with open(path) as f:
        return 'structure', roff_problems(f.read())


class ConfMan(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        harness.require_binary(harness.CORRIDORD, 'corridord')
        if not os.path.exists(PAGE):
            raise AssertionError('%s was not generated' % PAGE)
        with open(PAGE) as f:
            cls.page = f.read()

    def test_every_option_of_the_tables_has_its_entry(self):
        want = options_of_the_tables()
        self.assertGreater(len([o for o in want if o[0] == 'limits']), 20, want)
        self.assertTrue(any(o[0] == 'daemon' for o in want), want)
        self.assertTrue(any(o[0] == 'tls' for o in want), want)
        got = entries_of_the_page(self.page)
        for option in want:
            self.assertIn(option, got, '[%s] %s = %r (restart %s) is not in corridord.conf(5)'
                          % option)
        self.assertEqual(sorted(got), sorted(want), 'entries of the page not in the tables')

    def test_renders_without_warnings(self):
        how, warnings = render_warnings(PAGE)
        self.assertEqual(warnings, [], 'corridord.conf(5) (%s):\n%s' % (how, '\n'.join(warnings)))
        self.assertEqual(roff_problems(self.page), [])

    def test_rendered_text_names_every_option(self):
        if not shutil.which('groff'):
            self.skipTest('needs groff')
        text = subprocess.run(['groff', '-man', '-Tutf8', '-P-cbou', PAGE], capture_output=True,
                              text=True, check=True, env=dict(os.environ, LC_ALL='C.UTF-8')).stdout
        for section, name, default, _ in options_of_the_tables():
            self.assertRegex(text, r'(?m)^ +%s =%s$' % (re.escape(name),
                             ' ' + re.escape(default) if default else ''), name)

    def test_the_checks_see_a_broken_page(self):
        """The rendering check is not vacuous: a bad page fails it."""
        with tempfile.TemporaryDirectory() as d:
            bad = os.path.join(d, 'bad.5')
            with open(bad, 'w') as f:
                f.write(self.page.replace('.SH [tls]', '.SH [tls]\n.XT oops\n\n\\qbad'))
            how, warnings = render_warnings(bad)
            self.assertNotEqual(warnings, [], how)
            with open(bad) as f:
                self.assertNotEqual(roff_problems(f.read()), [])

    def test_generator_refuses_an_unknown_option(self):
        if not os.path.exists(GEN):
            self.skipTest('no gen_conf_man at %s' % GEN)
        with open(TEMPLATE) as f:
            template = f.read()
        with tempfile.TemporaryDirectory() as d:
            for broken, why in [
                    (template + '.\\" @more limits no_such_limit\nx\n.\\" @end\n', 'no_such_limit'),
                    (template.replace('.\\" @options tls\n', ''), 'tls'),
                    (template + '.\\" @more daemon state_dir\nx\n', '@end')]:
                src, out = os.path.join(d, 'page.5.in'), os.path.join(d, 'page.5')
                with open(src, 'w') as f:
                    f.write(broken)
                r = subprocess.run([GEN, src, out], capture_output=True, text=True)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn(why, r.stderr)
                self.assertFalse(os.path.exists(out), 'a page was written from a bad template')
            r = subprocess.run([GEN, TEMPLATE, out], capture_output=True, text=True)
            self.assertEqual((r.returncode, r.stderr), (0, ''))
            with open(out) as f:
                self.assertEqual(f.read(), self.page)


if __name__ == '__main__':
    harness.main()
