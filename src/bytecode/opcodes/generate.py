#!/usr/bin/env python3
"""Opcode tables for pycmarshal: facts/*.tsv and facts/magics.tsv -> tables.rs.

The facts files are this project's own data, one per opcode set, each with a header that says where
its facts came from (an interpreter on the machine that extracted them, or a release's own source
files at a named commit).  This script turns them into plain `no_std` Rust, and checks them against
the interpreters it can find.

Usage:
  generate.py                         write tables.rs from the facts (deterministic)
  generate.py --check                 exit 1 if tables.rs differs from what the facts give, or if a
                                      CPython/PyPy magic of the project's magic table has no set
  generate.py --check-interpreters    re-read each interpreter's opcode and dis modules and report
                                      every difference from its facts file (exit 1 if any)
  generate.py --extract-interpreters  rewrite the facts files of the interpreter-backed sets from the
                                      interpreters found (keeps their notes)

Runs on Python 3.8+ with the standard library only.  Interpreters are looked for under
$PYENV_ROOT/versions/X.Y.*/bin/python (default ~/.pyenv), then as pythonX.Y / pypy3 on PATH;
CPython 3.14 and 3.15 run as Pyodide under node: install them with
`npm install pyodide@314.0.8` and `npm install pyodide@315.0.0-alpha.2` in folders named by
$PYCMARSHAL_PYODIDE (':'-separated), or under /tmp/pyo/<any>/ (see NOTES.md).
"""

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FACTS = os.path.join(HERE, 'facts')
TABLES = os.path.join(HERE, 'tables.rs')
MAGICS = os.path.join(FACTS, 'magics.tsv')

# Flag names as the facts files spell them, with their bit in Op::flags (types.rs must agree).
FLAGS = [
    ('arg', 'ARG'),                    # takes an argument (op >= HAVE_ARGUMENT, or 3.12+ `hasarg`)
    ('const', 'CONST'),                # hasconst
    ('name', 'NAME'),                  # hasname
    ('local', 'LOCAL'),                # haslocal
    ('free', 'FREE'),                  # hasfree
    ('jrel', 'JREL'),                  # hasjrel
    ('jabs', 'JABS'),                  # hasjabs
    ('compare', 'COMPARE'),            # hascompare
    ('exc', 'EXC'),                    # hasexc (3.12+; pseudo instructions only, so never in a table)
    ('nargs', 'NARGS'),                # hasnargs (3.0-3.5; empty from 3.6)
    ('jump', 'JUMP'),                  # hasjump (3.13+)
    ('backward', 'BACKWARD'),          # 3.11+: a relative jump whose argument counts backwards
    ('specialized', 'SPECIALIZED'),    # 3.11+: specialized/adaptive form, never in a .pyc
    ('instrumented', 'INSTRUMENTED'),  # 3.12+: INSTRUMENTED_*, never in a .pyc
    ('pseudo', None),                  # 3.12+: pseudo instruction >= 256, never in a .pyc nor a table
]
FLAG_BIT = {name: i for i, (name, _) in enumerate(FLAGS) if FLAGS[i][1]}
HAS_LISTS = {'has' + n for n, _ in FLAGS[:11]}

SCALARS = ['set', 'implementation', 'version', 'have_argument', 'extended_arg', 'wordcode',
           'jump_unit', 'set_lineno']


# --------------------------------------------------------------------------------------------------
# From an opcode module's attributes to facts


def normalize(mod, version, extras=None):
    """Facts of one opcode set from the attributes of an `opcode` module (a dict of plain values).

    `version` is (major, minor); `extras` may hold `all_opmap` and `deoptmap` read from the same
    release's `dis` module (3.11+).  Without them the dis.py rules of 3.11-3.13 are applied: the
    specialized instructions of 3.11/3.12 fill the empty opname slots in order, and
    deoptmap = {specialized: base for base, family in _specializations.items() ...}.
    """
    extras = extras or {}
    opname = list(mod['opname'])
    if 'opmap' in mod:
        opmap = dict(mod['opmap'])
    else:  # dis.py before 2.0 has no opmap
        opmap = {}
        for i, n in enumerate(opname):
            if not (n.startswith('<') and n.endswith('>')):
                opmap[n] = i
    have_arg = mod['HAVE_ARGUMENT']
    lists = {}
    for k, v in mod.items():
        if k.startswith('has') and isinstance(v, (list, tuple)):
            if k not in HAS_LISTS:
                raise ValueError('unknown opcode list %s' % k)
            lists[k[3:]] = set(v)
    ice = mod.get('_inline_cache_entries')

    def caches(name, num):
        if ice is None:
            return 0
        if isinstance(ice, dict):
            return ice.get(name, 0)
        return ice[num] if num < len(ice) else 0

    def base_flags(name, num):
        fl = set()
        if 'arg' in lists:
            if num in lists['arg']:
                fl.add('arg')
        elif num >= have_arg:
            fl.add('arg')
        for k, s in lists.items():
            if k != 'arg' and num in s:
                fl.add(k)
        # dis: 3.11-3.12 test 'JUMP_BACKWARD' in the name; 3.13 the names JUMP_BACKWARD and
        # JUMP_BACKWARD_NO_INTERRUPT; 3.14+ also END_ASYNC_FOR, whose jump target lies behind it.
        # The INSTRUMENTED_ forms are marked too (never in a .pyc).
        if version >= (3, 11) and 'JUMP_BACKWARD' in name:
            fl.add('backward')
        if (version >= (3, 14) and name.endswith('END_ASYNC_FOR')
                and ('jrel' in fl or 'jump' in fl)):
            fl.add('backward')
        if name.startswith('INSTRUMENTED_'):
            fl.add('instrumented')
        if num >= 256:
            fl.add('pseudo')
        return fl

    ops, aliases = {}, {}
    for name, num in opmap.items():
        if num in ops or (num < len(opname) and opname[num] != name and opname[num] in opmap
                          and opmap[opname[num]] == num):
            # Two names for one number (PyPy's opcode.py in places): opname's is the name, the
            # other an alias.
            if name != opname[num]:
                aliases.setdefault(num, []).append(name)
                continue
        ops[num] = (name, base_flags(name, num), caches(name, num))

    # Specialized instructions (3.11+)
    if 'all_opmap' in extras:
        spec = {n: v for n, v in extras['all_opmap'].items() if n not in opmap}
    elif '_specialized_opmap' in mod:
        spec = dict(mod['_specialized_opmap'])
    elif '_specialized_instructions' in mod:
        empty = [i for i, n in enumerate(opname) if n.startswith('<')]
        spec = {n: i for i, n in zip(empty, mod['_specialized_instructions'])}
    else:
        spec = {}
    if 'deoptmap' in extras:
        deopt = dict(extras['deoptmap'])
    else:
        deopt = {}
        for base, family in mod.get('_specializations', {}).items():
            for s in family:
                deopt[s] = base
    for name, num in spec.items():
        if num in ops:
            raise ValueError('specialized %s reuses opcode %d (%s)' % (name, num, ops[num][0]))
        base = deopt.get(name)
        if base in opmap:
            bname, bflags, bcaches = ops[opmap[base]]
            ops[num] = (name, (bflags - {'instrumented'}) | {'specialized'}, bcaches)
        else:
            ops[num] = (name, {'specialized'}, 0)

    # Members of a has* list that name no opcode (3.12's hasfree keeps 148, the number of the
    # LOAD_CLASSDEREF it removed): kept as facts so the lists can be rebuilt exactly.
    strays = sorted((k, num) for k, v in lists.items() for num in v if num not in opmap.values())
    ext = mod.get('EXTENDED_ARG', opmap.get('EXTENDED_ARG'))
    facts = {
        'have_argument': have_arg,
        'extended_arg': ext,
        'set_lineno': opmap.get('SET_LINENO'),
        'cmp_op': list(mod.get('cmp_op', ())),
        'ops': {n: (nm, sorted(fl, key=flag_order), c) for n, (nm, fl, c) in ops.items()},
        'tables': {},
        'aliases': {n: sorted(v) for n, v in aliases.items()},
        'strays': strays,
    }
    if '_nb_ops' in mod:
        facts['tables']['nb_ops'] = ['%s %s' % tuple(x) for x in mod['_nb_ops']]
    for k in ('_intrinsic_1_descs', '_intrinsic_2_descs'):
        if k in mod:
            facts['tables'][k.strip('_')] = list(mod[k])
    return facts


def flag_order(f):
    return [n for n, _ in FLAGS].index(f)


# --------------------------------------------------------------------------------------------------
# The facts files


def write_facts(path, scalars, facts, header):
    out = []
    for line in header:
        out.append(('# ' + line).rstrip())
    for k in SCALARS:
        v = scalars.get(k)
        out.append('%s\t%s' % (k, '-' if v is None else v))
    out.append('cmp_op\t' + '\t'.join(facts['cmp_op']) if facts['cmp_op'] else 'cmp_op')
    for tname in sorted(facts['tables']):
        for i, v in enumerate(facts['tables'][tname]):
            out.append('table\t%s\t%d\t%s' % (tname, i, v))
    for num in sorted(facts.get('aliases', {})):
        for a in facts['aliases'][num]:
            out.append('alias\t%d\t%s' % (num, a))
    for k, num in facts.get('strays', []):
        out.append('stray\t%s\t%d' % (k, num))
    out.append('#\tnumber\tname\tflags\tcaches')
    for num in sorted(facts['ops']):
        name, fl, c = facts['ops'][num]
        out.append('op\t%d\t%s\t%s\t%d' % (num, name, ','.join(fl) or '-', c))
    with open(path, 'w', encoding='utf-8', newline='\n') as f:
        f.write('\n'.join(out) + '\n')


def read_facts(path):
    scalars, header = {}, []
    facts = {'cmp_op': [], 'ops': {}, 'tables': {}, 'aliases': {}, 'strays': []}
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if line.startswith('#'):
                if not line.startswith('#\t'):
                    header.append(line[2:])
                continue
            if not line:
                continue
            cols = line.split('\t')
            kind = cols[0]
            if kind == 'op':
                num, name, fl, c = int(cols[1]), cols[2], cols[3], int(cols[4])
                fl = [] if fl == '-' else fl.split(',')
                for x in fl:
                    flag_order(x)  # raises on an unknown flag
                if num in facts['ops']:
                    raise ValueError('%s: opcode %d twice' % (path, num))
                facts['ops'][num] = (name, fl, c)
            elif kind == 'stray':
                flag_order(cols[1])
                facts['strays'].append((cols[1], int(cols[2])))
            elif kind == 'alias':
                facts['aliases'].setdefault(int(cols[1]), []).append(cols[2])
            elif kind == 'cmp_op':
                facts['cmp_op'] = cols[1:]
            elif kind == 'table':
                t = facts['tables'].setdefault(cols[1], [])
                if int(cols[2]) != len(t):
                    raise ValueError('%s: table %s out of order' % (path, cols[1]))
                t.append(cols[3])
            elif kind in SCALARS:
                scalars[kind] = None if cols[1] == '-' else cols[1]
            else:
                raise ValueError('%s: unknown line %r' % (path, line))
    for k in ('have_argument', 'extended_arg', 'jump_unit', 'set_lineno'):
        if scalars.get(k) is not None:
            scalars[k] = int(scalars[k])
    facts['have_argument'] = scalars['have_argument']
    facts['extended_arg'] = scalars['extended_arg']
    facts['set_lineno'] = scalars['set_lineno']
    return scalars, facts, header


def all_facts():
    sets = {}
    for path in sorted(glob.glob(os.path.join(FACTS, '*.tsv'))):
        if os.path.basename(path) == 'magics.tsv':
            continue
        scalars, facts, header = read_facts(path)
        name = os.path.basename(path)[:-4]
        if scalars.get('set') != name:
            raise ValueError('%s: set line says %r' % (path, scalars.get('set')))
        sets[name] = (scalars, facts, header)
    return sets


def read_magics():
    rows = []
    with open(MAGICS, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if not line or line.startswith('#'):
                continue
            impl, magic, set_name, status, note = (line.split('\t') + [''])[:5]
            if status not in ('exact', 'approx'):
                raise ValueError('magics.tsv: status %r' % status)
            rows.append((impl, int(magic), set_name, status, note))
    return rows


# --------------------------------------------------------------------------------------------------
# Rust


def ident(set_name):
    return re.sub(r'[^A-Za-z0-9]', '_', set_name).upper()


def rust_str(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'


def rustfmt(text):
    """The tables as `cargo fmt` leaves them (the file is checked in formatted); unformatted, with a
    warning, where rustfmt is not found."""
    try:
        done = subprocess.run(['rustfmt', '--edition', '2024', '--emit', 'stdout'], input=text,
                              capture_output=True, text=True, check=True)
        return done.stdout
    except (OSError, subprocess.CalledProcessError) as e:
        print('rustfmt failed (%s): tables.rs left unformatted' % e, file=sys.stderr)
        return text


def render(sets, magics):
    out = ['// @generated by generate.py — do not edit',
           '//! Opcode tables, one per opcode set, and the map from magic numbers to sets.',
           '//! Written by `python3 generate.py` from `facts/*.tsv` and `facts/magics.tsv`; NOTES.md says',
           '//! where each set comes from and which mappings are approximate.',
           '',
           'use super::types::{Arg, Implementation, MagicSet, Op, OpcodeSet};',
           '']
    names = sorted(sets, key=set_sort_key)
    arrays = {}      # rendered entries -> static name
    order = []
    for name in names:
        scalars, facts, header = sets[name]
        lines = []
        num = 0
        while num < 256:
            if num in facts['ops']:
                nm, fl, c = facts['ops'][num]
                bits = 0
                for x in fl:
                    bits |= 1 << FLAG_BIT[x]
                lines.append('    Op::new(%s, 0x%04x, %d), // %d' % (rust_str(nm), bits, c, num))
                num += 1
                continue
            run = num
            while run < 256 and run not in facts['ops'] and run - num < 8:
                run += 1
            lines.append('    %s // %s' % (' '.join(['Op::NONE,'] * (run - num)),
                                           str(num) if run - num == 1 else '%d..=%d' % (num, run - 1)))
            num = run
        key = '\n'.join(lines)
        if key not in arrays:
            arrays[key] = ident(name) + '_OPS'
            order.append((arrays[key], key, name))
        sets[name] = (scalars, facts, header, arrays[key])
    for static, key, first in order:
        users = [n for n in names if sets[n][3] == static]
        out.append('/// The opcodes of %s.' % ', '.join('`%s`' % u for u in users))
        out.append('static %s: [Op; 256] = [' % static)
        out.append(key)
        out.append('];')
        out.append('')
    for name in names:
        scalars, facts, header, static = sets[name]
        out.append('/// `%s`: %s.' % (name, header[1] if len(header) > 1 else name))
        out.append('pub(crate) static %s: OpcodeSet = OpcodeSet {' % ident(name))
        out.append('    name: %s,' % rust_str(name))
        out.append('    implementation: Implementation::%s,' % scalars['implementation'])
        major, minor = scalars['version'].split('.')
        out.append('    version: (%d, %d),' % (int(major), int(minor)))
        out.append('    have_argument: %d,' % facts['have_argument'])
        opt = lambda v: 'None' if v is None else 'Some(%d)' % v
        out.append('    extended_arg: %s,' % opt(facts['extended_arg']))
        out.append('    wordcode: %s,' % ('true' if scalars['wordcode'] == 'yes' else 'false'))
        out.append('    jump_unit_bytes: %d,' % scalars['jump_unit'])
        out.append('    set_lineno: %s,' % opt(facts['set_lineno']))
        out.append('    cmp_op: &[%s],' % ', '.join(rust_str(s) for s in facts['cmp_op']))
        for tname, field in (('nb_ops', 'nb_ops'), ('intrinsic_1_descs', 'intrinsic_1'),
                             ('intrinsic_2_descs', 'intrinsic_2')):
            vals = facts['tables'].get(tname, [])
            if tname == 'nb_ops':
                vals = [v.split(' ', 1)[1] for v in vals]
            out.append('    %s: &[%s],' % (field, ', '.join(rust_str(v) for v in vals)))
        out.append('    ops: &%s,' % static)
        lens = tuple(len(facts['tables'].get(t, [])) for t in
                     ('nb_ops', 'intrinsic_1_descs', 'intrinsic_2_descs'))
        out.append('    args: &Arg::table(&%s, (%d, %d), (%d, %d, %d)),'
                   % ((static, int(major), int(minor)) + lens))
        out.append('};')
        out.append('')
    out.append('/// Every opcode set, CPython first, in version order.')
    out.append('pub(crate) static SETS: &[&OpcodeSet] = &[')
    for name in names:
        out.append('    &%s,' % ident(name))
    out.append('];')
    out.append('')
    out.append('/// Every known magic with its opcode set; `exact` is false where the set is the nearest')
    out.append("/// one found, not that magic's own (see NOTES.md).")
    out.append('pub(crate) static MAGIC_SETS: &[MagicSet] = &[')
    for impl, magic, set_name, status, note in sorted(magics, key=lambda r: (r[0] != 'CPython', r[0], r[1])):
        out.append('    MagicSet { implementation: Implementation::%s, magic: %d, set: &%s, exact: %s },'
                   % (impl, magic, ident(set_name), 'true' if status == 'exact' else 'false'))
    out.append('];')
    out.append('')
    out.append('/// The opcode set of files with this magic, or `None` for a magic not in the table.')
    out.append("pub(crate) fn set_for_magic(implementation: Implementation, magic: u16) -> Option<&'static OpcodeSet> {")
    out.append('    MAGIC_SETS')
    out.append('        .iter()')
    out.append('        .find(|m| m.magic == magic && m.implementation == implementation)')
    out.append('        .map(|m| m.set)')
    out.append('}')
    return '\n'.join(out) + '\n'


def set_sort_key(name):
    impl, _, rest = name.partition('-')
    parts = re.findall(r'\d+|[a-z]+', rest)
    key = []
    for p in parts:
        key.append((0, int(p), '') if p.isdigit() else (1, 0, p))
    return (impl != 'cpython', impl, key)


def check_consistency(sets, magics):
    problems = []
    for impl, magic, set_name, status, note in magics:
        if set_name not in sets:
            problems.append('magics.tsv: %s %d names unknown set %s' % (impl, magic, set_name))
        elif sets[set_name][0]['implementation'] != impl:
            problems.append('magics.tsv: %s %d maps to %s set %s'
                            % (impl, magic, sets[set_name][0]['implementation'], set_name))
    seen = {}
    for impl, magic, *_ in magics:
        if (impl, magic) in seen:
            problems.append('magics.tsv: %s %d twice' % (impl, magic))
        seen[(impl, magic)] = True
    used = {r[2] for r in magics}
    for name in sets:
        if name not in used:
            problems.append('set %s has no magic' % name)
    for name, (scalars, facts, header) in sets.items():
        for num, (nm, fl, c) in facts['ops'].items():
            if num < 256 and 'pseudo' in fl:
                problems.append('%s: pseudo opcode %d below 256' % (name, num))
            if num >= 256 and 'pseudo' not in fl:
                problems.append('%s: opcode %d >= 256 not pseudo' % (name, num))
    return problems


def project_magics():
    """(implementation, magic) of every CPython and PyPy row of the project's MAGICS table."""
    src = os.path.normpath(os.path.join(HERE, '..', '..'))
    found = sorted(glob.glob(os.path.join(src, '**', 'magic.rs'), recursive=True))
    rows = set()
    for path in found:
        text = open(path, encoding='utf-8').read()
        if 'pub static MAGICS' not in text:
            continue
        body = text[text.index('pub static MAGICS'):]
        for m in re.finditer(r'entry\(\s*(\d+),\s*(\w+),', body):
            if m.group(2) in ('CPython', 'PyPy'):
                rows.add((m.group(2), int(m.group(1))))
        return rows, path
    return None, None


# --------------------------------------------------------------------------------------------------
# Interpreters

# (set, implementation, version) of the sets whose facts come from an interpreter.
INTERPRETERS = [
    ('cpython-2.7', 'CPython', '2.7'),
    ('cpython-3.6', 'CPython', '3.6'),
    ('cpython-3.7', 'CPython', '3.7'),
    ('cpython-3.8', 'CPython', '3.8'),
    ('cpython-3.9', 'CPython', '3.9'),
    ('cpython-3.10', 'CPython', '3.10'),
    ('cpython-3.11', 'CPython', '3.11'),
    ('cpython-3.12', 'CPython', '3.12'),
    ('cpython-3.13', 'CPython', '3.13'),
    ('pypy-3.9', 'PyPy', '3.9'),
    ('cpython-3.14', 'CPython', '3.14'),
    ('cpython-3.15', 'CPython', '3.15'),
]

# Node.js runner for Pyodide (CPython compiled to WebAssembly, installed with npm): the way this
# machine runs CPython 3.14 and 3.15.  It prints what the Python code prints.
PYODIDE_RUNNER = r'''
import { readFileSync } from "fs";
import { pathToFileURL } from "url";
const [dir, file] = process.argv.slice(2);
const { loadPyodide } = await import(pathToFileURL(dir + "/pyodide.mjs").href);
const py = await loadPyodide({ indexURL: dir + "/" });
py.runPython(readFileSync(file, "utf8"));
'''


def pyodide_dirs():
    """Pyodide installs to try: $PYCMARSHAL_PYODIDE (':'-separated node_modules/pyodide folders, or
    folders holding one), else /tmp/pyo/*/node_modules/pyodide."""
    env = os.environ.get('PYCMARSHAL_PYODIDE')
    cands = env.split(':') if env else sorted(glob.glob('/tmp/pyo/*/node_modules/pyodide'))
    out = []
    for c in cands:
        for d in (c, os.path.join(c, 'node_modules', 'pyodide')):
            if os.path.isfile(os.path.join(d, 'pyodide.mjs')):
                out.append(os.path.abspath(d))
                break
    return out


def run_python(interp, code):
    """Run code in an interpreter (a path, or ('pyodide', dir)); return its stdout."""
    if isinstance(interp, tuple):
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            runner = os.path.join(tmp, 'run.mjs')
            src = os.path.join(tmp, 'code.py')
            open(runner, 'w').write(PYODIDE_RUNNER)
            open(src, 'w').write(code)
            r = subprocess.run([shutil.which('node') or 'node', runner, interp[1], src],
                               capture_output=True, timeout=600)
    else:
        r = subprocess.run([interp, '-c', code], capture_output=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError('%s: %s' % (interp, r.stderr.decode()[-2000:]))
    return r.stdout.decode()


def describe(interp):
    if not isinstance(interp, tuple):
        return interp
    try:
        ver = json.load(open(os.path.join(interp[1], 'package.json')))['version']
    except (OSError, ValueError, KeyError):
        ver = '?'
    return 'pyodide %s (npm package, run by node) at %s' % (ver, interp[1])

# Runs inside the interpreter (Python 2.7 and 3.x): prints its opcode facts as JSON.
PROBE = r'''
import sys, json, dis, opcode
mod = {}
for k in dir(opcode):
    v = getattr(opcode, k)
    if k.startswith('__') or isinstance(v, bool):
        continue
    if isinstance(v, (int, list, tuple, dict)):
        try:
            json.dumps(v)
        except Exception:
            continue
        mod[k] = v
extras = {}
for k in ('_all_opmap', 'deoptmap'):
    if hasattr(dis, k):
        extras[k.lstrip('_')] = getattr(dis, k)
try:
    import importlib.util
    magic = importlib.util.MAGIC_NUMBER
except Exception:
    import imp
    magic = imp.get_magic()
magic = bytearray(magic)
code = compile("a(b, c)", "<probe>", "eval").co_code
wordcode = len(code) % 2 == 0
# The jump unit, from what dis makes of a forward jump's argument.
unit = None
co = compile("a if b else c", "<probe>", "eval")
if hasattr(dis, "get_instructions"):
    ins = list(dis.get_instructions(co))
    for i, x in enumerate(ins):
        if x.arg and (x.opcode in opcode.hasjabs or x.opcode in opcode.hasjrel):
            if x.opcode in opcode.hasjabs:
                unit = x.argval // x.arg
            else:
                unit = (x.argval - ins[i + 1].offset) // x.arg
            break
else:
    c = bytearray(co.co_code)
    offsets, i, jump = [], 0, None
    while i < len(c):
        offsets.append(i)
        op = c[i]
        if op >= opcode.HAVE_ARGUMENT:
            arg = c[i + 1] | c[i + 2] << 8
            if jump is None and op in opcode.hasjabs:
                jump = ('abs', arg)
            elif jump is None and op in opcode.hasjrel:
                jump = ('rel', i + 3 + arg)
            i += 3
        else:
            i += 1
    target = jump[1]
    unit = 1 if target in offsets else None
impl = getattr(getattr(sys, 'implementation', None), 'name', 'cpython')
print(json.dumps({'mod': mod, 'extras': extras, 'magic': magic[0] | magic[1] << 8,
                  'version': list(sys.version_info[:3]), 'implementation': impl,
                  'wordcode': wordcode, 'jump_unit': unit,
                  'version_string': sys.version.split()[0]}, sort_keys=True))
'''


VERSION_PROBE = ('import sys; print("%d.%d %s" % (sys.version_info[0], sys.version_info[1], '
                 'getattr(getattr(sys, "implementation", None), "name", "cpython")))')


def find_interpreter(impl, version):
    want = '%s %s' % (version, 'pypy' if impl == 'PyPy' else 'cpython')
    if impl == 'CPython' and tuple(map(int, version.split('.'))) >= (3, 14):
        if not shutil.which('node'):
            return None
        for d in pyodide_dirs():
            try:
                if run_python(('pyodide', d), VERSION_PROBE).strip().splitlines()[-1] == want:
                    return ('pyodide', d)
            except (RuntimeError, OSError, IndexError, subprocess.TimeoutExpired):
                continue
        return None
    cands = []
    root = os.environ.get('PYENV_ROOT') or os.path.expanduser('~/.pyenv')
    if impl == 'CPython':
        cands += sorted(glob.glob(os.path.join(root, 'versions', version + '.*', 'bin', 'python')))
        cands += [shutil.which('python' + version)]
    else:
        cands += sorted(glob.glob(os.path.join(root, 'versions', 'pypy' + version + '*', 'bin', 'pypy3')))
        cands += [shutil.which('pypy' + version), shutil.which('pypy3')]
    for c in cands:
        if not c:
            continue
        try:
            if run_python(c, VERSION_PROBE).strip() == want:
                return c
        except (RuntimeError, OSError, subprocess.TimeoutExpired):
            continue
    return None


def probe(interp):
    return json.loads(run_python(interp, PROBE).strip().splitlines()[-1])


def interpreter_facts(set_name, impl, version):
    path = find_interpreter(impl, version)
    if path is None:
        return None, None, None
    p = probe(path)
    ver = tuple(int(x) for x in version.split('.'))
    facts = normalize(p['mod'], ver, p['extras'])
    scalars = {'set': set_name, 'implementation': impl, 'version': version,
               'have_argument': facts['have_argument'], 'extended_arg': facts['extended_arg'],
               'wordcode': 'yes' if p['wordcode'] else 'no', 'jump_unit': p['jump_unit'],
               'set_lineno': facts['set_lineno']}
    return path, p, (scalars, facts)


def diff_facts(a_scalars, a, b_scalars, b):
    """Differences between two sets of facts (a: file, b: interpreter), as readable lines."""
    d = []
    for k in SCALARS:
        va, vb = a_scalars.get(k), b_scalars.get(k)
        if k in ('have_argument', 'extended_arg', 'jump_unit', 'set_lineno'):
            va = None if va is None else int(va)
            vb = None if vb is None else int(vb)
        if va != vb:
            d.append('%s: facts %r, interpreter %r' % (k, va, vb))
    if list(a['cmp_op']) != list(b['cmp_op']):
        d.append('cmp_op: facts %r, interpreter %r' % (a['cmp_op'], b['cmp_op']))
    for t in sorted(set(a['tables']) | set(b['tables'])):
        if a['tables'].get(t) != b['tables'].get(t):
            d.append('table %s: facts %r, interpreter %r' % (t, a['tables'].get(t), b['tables'].get(t)))
    if sorted(map(tuple, a.get('strays', []))) != sorted(map(tuple, b.get('strays', []))):
        d.append('strays: facts %r, interpreter %r' % (a.get('strays'), b.get('strays')))
    if a.get('aliases', {}) != b.get('aliases', {}):
        d.append('aliases: facts %r, interpreter %r' % (a.get('aliases'), b.get('aliases')))
    for num in sorted(set(a['ops']) | set(b['ops'])):
        x, y = a['ops'].get(num), b['ops'].get(num)
        if x is None or y is None or (x[0], list(x[1]), x[2]) != (y[0], list(y[1]), y[2]):
            d.append('opcode %d: facts %r, interpreter %r' % (num, x, y))
    return d


def raw_check(mod, facts):
    """The facts against the module's own lists, without normalize(): one line per mismatch."""
    d = []
    ops = facts['ops']
    base = {(nm, num) for num, (nm, fl, c) in ops.items() if 'specialized' not in fl}
    base |= {(a, num) for num, al in facts.get('aliases', {}).items() for a in al}
    opmap = mod.get('opmap') or {n: i for i, n in enumerate(mod['opname']) if not n.startswith('<')}
    if set(opmap.items()) != base:
        d.append('raw: opmap differs: %r' % sorted(set(opmap.items()) ^ base)[:10])
    for k, v in mod.items():
        if k.startswith('has') and isinstance(v, (list, tuple)):
            flag = k[3:]
            mine = {num for num, (nm, fl, c) in ops.items() if flag in fl and 'specialized' not in fl}
            mine |= {num for f, num in facts.get('strays', []) if f == flag}
            if set(v) != mine:
                d.append('raw: %s differs: %r' % (k, sorted(set(v) ^ mine)))
    if 'hasarg' not in mod:
        mine = {num for num, (nm, fl, c) in ops.items() if 'arg' in fl and 'specialized' not in fl}
        want = {num for nm, num in opmap.items() if num >= mod['HAVE_ARGUMENT']}
        if mine != want:
            d.append('raw: HAVE_ARGUMENT test differs: %r' % sorted(mine ^ want))
    for k, mine in (('HAVE_ARGUMENT', facts['have_argument']), ('EXTENDED_ARG', facts['extended_arg'])):
        if mod.get(k) != mine:
            d.append('raw: %s %r, facts %r' % (k, mod.get(k), mine))
    if list(mod.get('cmp_op', ())) != facts['cmp_op']:
        d.append('raw: cmp_op differs')
    ice = mod.get('_inline_cache_entries')
    for num, (nm, fl, c) in ops.items():
        if 'specialized' in fl:
            continue
        want = 0 if ice is None else (ice.get(nm, 0) if isinstance(ice, dict) else
                                      (ice[num] if num < len(ice) else 0))
        if want != c:
            d.append('raw: caches of %s: module %r, facts %r' % (nm, want, c))
    return d


def check_interpreters(sets, magics):
    total, checked = 0, 0
    for set_name, impl, version in INTERPRETERS:
        path, p, got = interpreter_facts(set_name, impl, version)
        if path is None:
            print('%s: no %s %s interpreter found; skipped' % (set_name, impl, version))
            continue
        checked += 1
        if set_name not in sets:
            print('%s: no facts file' % set_name)
            total += 1
            continue
        scalars, facts, header = sets[set_name]
        d = diff_facts(scalars, facts, got[0], got[1]) + raw_check(p['mod'], facts)
        mapped = [r for r in magics if r[0] == impl and r[1] == p['magic']]
        if not mapped or mapped[0][2] != set_name or mapped[0][3] != 'exact':
            d.append('magic %d of the interpreter is not mapped exactly to %s: %r'
                     % (p['magic'], set_name, mapped))
        for line in d:
            print('%s: %s' % (set_name, line))
        print('%s: %s (%s, magic %d): %d opcodes, %d differences'
              % (set_name, describe(path), p['version_string'], p['magic'], len(got[1]['ops']), len(d)))
        total += len(d)
    print('%d interpreters checked, %d differences' % (checked, total))
    return total


def extract_interpreters(sets):
    for set_name, impl, version in INTERPRETERS:
        path, p, got = interpreter_facts(set_name, impl, version)
        if path is None:
            print('%s: no interpreter found; facts kept' % set_name)
            continue
        notes = []
        if set_name in sets:
            notes = [h for h in sets[set_name][2] if h.startswith('note:')]
        header = ['pycmarshal opcode facts: %s' % set_name,
                  '%s %s, from the interpreter' % (impl, version),
                  'source: interpreter %s (%s), modules opcode and dis, magic %d'
                  % (describe(path), p['version_string'], p['magic']),
                  'extracted by: generate.py --extract-interpreters'] + notes
        write_facts(os.path.join(FACTS, set_name + '.tsv'), got[0], got[1], header)
        print('%s: written from %s' % (set_name, describe(path)))


# --------------------------------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split('\n\n', 1)[1])
    ap.add_argument('--check', action='store_true', help='check tables.rs and magic coverage')
    ap.add_argument('--check-interpreters', action='store_true',
                    help="compare the facts with each interpreter's opcode module")
    ap.add_argument('--extract-interpreters', action='store_true',
                    help='rewrite the interpreter-backed facts files from the interpreters')
    args = ap.parse_args(argv)
    if args.extract_interpreters:
        extract_interpreters(all_facts() if os.path.isdir(FACTS) else {})
        return 0
    sets = all_facts()
    magics = read_magics()
    problems = check_consistency(sets, magics)
    if args.check_interpreters:
        for p in problems:
            print(p)
        return 1 if check_interpreters(sets, magics) or problems else 0
    text = rustfmt(render(sets, magics))
    if args.check:
        pm, path = project_magics()
        if pm is not None:
            have = {(r[0], r[1]) for r in magics}
            for impl, magic in sorted(pm - have):
                problems.append('%s: %s magic %d has no opcode set' % (os.path.relpath(path, HERE), impl, magic))
        try:
            current = open(TABLES, encoding='utf-8').read()
        except OSError:
            current = None
        if current != text:
            problems.append('tables.rs is not what generate.py writes from the facts')
        for p in problems:
            print(p)
        print('%d sets, %d magics, %d problems' % (len(sets), len(magics), len(problems)))
        return 1 if problems else 0
    if problems:
        for p in problems:
            print(p)
        return 1
    with open(TABLES, 'w', encoding='utf-8', newline='\n') as f:
        f.write(text)
    print('wrote %s: %d sets, %d magics' % (os.path.relpath(TABLES), len(sets), len(magics)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
