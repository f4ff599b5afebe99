"""Attribute-by-attribute equality of what pycmarshal builds and what ``marshal.loads`` builds from the
same bytes, sharing and cycles included.

Two objects are equal when they have the same type and value, containers item by item (dicts in
order, sets as sets), code objects attribute by attribute: every data attribute ``co_*`` the
interpreter's code object has, with the same value. Sharing: wherever ``marshal.loads`` gives the same
container (tuple, list, dict, set, frozenset, slice, code) at two places, pycmarshal gives the same
object there too, and the other way round, so a cycle is the same cycle. Scalars (str, bytes, int,
float, complex) are shared by CPython's own caches besides marshal's references (small ints, one-
character strings, strings the code constructor interns), so only one way is required for them:
where pycmarshal shares one, marshal shares it too.
"""

import struct
import sys
import types
import warnings

#: What marshal's references alone share, compared both ways; and the rest.
SHARED = frozenset([tuple, list, dict, set, frozenset, slice, types.CodeType])
SCALARS = frozenset([str, bytes, int, float, complex, bool, type(None)])
#: Attributes of code objects that CPython computes from others and pycmarshal does not (yet): the
#: old line-number table, rebuilt from ``co_linetable`` from 3.10 on.
NOT_DERIVED = {"co_lnotab"}
#: Fields pycmarshal.Code has that CPython's code objects do not show (3.11+: marshalled, and the
#: source of co_varnames, co_cellvars, co_freevars).
ONLY_OURS = {"co_localsplusnames", "co_localspluskinds"}
#: Made anew by CPython 3.11+ on each access, from the fields it keeps (no identity to compare): the
#: names derived from co_localsplusnames, and co_code (kept in its adaptive form).
FRESH = {"co_varnames", "co_cellvars", "co_freevars", "co_code"}
CO_NOFREE = 0x40


class Counts(object):
    def __init__(self):
        self.codes = 0
        self.constants = 0
        self.skipped = set()

    def add(self, other):
        self.codes += other.codes
        self.constants += other.constants
        self.skipped |= other.skipped


def code_attributes(code):
    """The data attributes ``co_*`` of a real code object (methods such as co_lines left out)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # co_lnotab, from 3.12
        return sorted(name for name in dir(code)
                      if name.startswith("co_") and not callable(getattr(code, name)))


def our_attributes(code):
    """The ``co_*`` attributes of a pycmarshal.Code."""
    return set(name for name in dir(code) if name.startswith("co_"))


def bits(x):
    return struct.pack("<d", x)


def where(path):
    """A path kept as nested (parent, step) pairs, in words: ``root.co_consts[3]``."""
    steps = []
    while isinstance(path, tuple):
        path, step = path
        steps.append(step)
    return path + "".join(reversed(steps))


class Comparison(object):
    def __init__(self, ours_code_type, mask_nofree=False):
        self.Code = ours_code_type
        self.mask_nofree = mask_nofree
        self.counts = Counts()
        # The attributes to compare, and those pycmarshal has, by code layout.
        self.layouts = {}
        # Sharing, as identities seen: theirs -> ours and ours -> theirs, with the objects kept
        # alive so that ids are not reused.
        self.theirs_seen = {}
        self.ours_seen = {}
        self.ours_scalars = {}

    def fail(self, path, what):
        raise AssertionError("%s: %s" % (where(path), what))

    def compare(self, ours, theirs, path, in_consts=False):
        kind = type(theirs)
        if kind in SCALARS:
            if in_consts:
                self.counts.constants += 1
            seen = self.ours_scalars.get(id(ours))
            if seen is not None and seen[1] is not theirs:
                self.fail(path, "pycmarshal shares %r where marshal.loads does not" % (ours,))
            self.ours_scalars[id(ours)] = (ours, theirs)
            if type(ours) is not kind or not (ours == theirs or kind is float or kind is complex):
                return self.compare_value(ours, theirs, path, in_consts)
            if kind is float or kind is complex:
                self.compare_value(ours, theirs, path, in_consts)
            return
        if in_consts and kind is not types.CodeType:
            self.counts.constants += 1
        if kind in SHARED:
            seen_t = self.theirs_seen.get(id(theirs))
            seen_o = self.ours_seen.get(id(ours))
            if seen_t is not None or seen_o is not None:
                if seen_t is None or seen_t[0] is not ours or seen_o is None or seen_o[0] is not theirs:
                    self.fail(path, "shared differently (marshal.loads shares it %s, pycmarshal %s)"
                              % ("here" if seen_t else "not", "here" if seen_o else "not"))
                return
            self.theirs_seen[id(theirs)] = (ours, theirs)
            self.ours_seen[id(ours)] = (theirs, ours)
        self.compare_value(ours, theirs, path, in_consts)

    def compare_value(self, ours, theirs, path, in_consts):
        if isinstance(theirs, types.CodeType):
            if not isinstance(ours, self.Code):
                self.fail(path, "a code object, pycmarshal has %s" % type(ours).__name__)
            return self.compare_code(ours, theirs, path)
        if type(ours) is not type(theirs):
            self.fail(path, "type %s, pycmarshal has %s" % (type(theirs).__name__, type(ours).__name__))
        if isinstance(theirs, float):
            if bits(ours) != bits(theirs) and not (ours != ours and theirs != theirs):
                self.fail(path, "%r, pycmarshal has %r" % (theirs, ours))
        elif isinstance(theirs, complex):
            for part in ("real", "imag"):
                self.compare_value(getattr(ours, part), getattr(theirs, part), (path, "." + part), False)
        elif isinstance(theirs, (tuple, list)):
            if len(ours) != len(theirs):
                self.fail(path, "%d items, pycmarshal has %d" % (len(theirs), len(ours)))
            compare = self.compare
            for i, (o, t) in enumerate(zip(ours, theirs)):
                compare(o, t, (path, "[%d]" % i), in_consts)
        elif isinstance(theirs, dict):
            if len(ours) != len(theirs):
                self.fail(path, "%d items, pycmarshal has %d" % (len(theirs), len(ours)))
            for i, ((ko, vo), (kt, vt)) in enumerate(zip(ours.items(), theirs.items())):
                self.compare(ko, kt, (path, "[key %d]" % i), in_consts)
                self.compare(vo, vt, (path, "[value %d]" % i), in_consts)
        elif isinstance(theirs, (set, frozenset)):
            if len(ours) != len(theirs):
                self.fail(path, "%d items, pycmarshal has %d" % (len(theirs), len(ours)))
            ours_by_key = dict((key(o), o) for o in ours)
            for i, t in enumerate(sorted(theirs, key=key)):
                k = key(t)
                if k not in ours_by_key:
                    self.fail(path, "item %r missing" % (t,))
                self.compare(ours_by_key[k], t, (path, "{%d}" % i), in_consts)
        elif isinstance(theirs, slice):
            for part in ("start", "stop", "step"):
                self.compare(getattr(ours, part), getattr(theirs, part), (path, "." + part), in_consts)
        elif ours != theirs:
            self.fail(path, "%r, pycmarshal has %r" % (theirs, ours))

    def compare_code(self, ours, theirs, path):
        self.counts.codes += 1
        layout = self.layouts.get(ours.layout)
        if layout is None:
            names = set(code_attributes(theirs))
            have = our_attributes(ours) - ONLY_OURS
            skipped = (names - have) & NOT_DERIVED
            layout = self.layouts[ours.layout] = (sorted(names - skipped), have)
            self.counts.skipped |= skipped
        wanted, have = layout
        if have != set(wanted) and ours.complete:
            self.fail(path, "attributes differ: only marshal's %s, only pycmarshal's %s"
                      % (sorted(set(wanted) - have), sorted(have - set(wanted))))
        for name in wanted:
            o, t = getattr(ours, name), getattr(theirs, name)
            here = (path, "." + name)
            if name == "co_flags" and self.mask_nofree:
                o, t = o & ~CO_NOFREE, t & ~CO_NOFREE
            if name in FRESH and sys.version_info >= (3, 11):
                self.compare_value(o, t, here, False)
            else:
                self.compare(o, t, here, in_consts=name == "co_consts")


def key(value):
    """A sort key equal for equal values of any type a set may hold (floats by their bits)."""
    if isinstance(value, float):
        return ("float", bits(value))
    if isinstance(value, complex):
        return ("complex", bits(value.real), bits(value.imag))
    if isinstance(value, (tuple, frozenset)):
        items = [key(v) for v in value]
        if isinstance(value, frozenset):
            items.sort()
        return (type(value).__name__, tuple(items))
    return (type(value).__name__, repr(value))


def compare(ours, theirs, ours_code_type, mask_nofree=False):
    """Compares one file's objects; returns its counts, or raises AssertionError where they differ."""
    comparison = Comparison(ours_code_type, mask_nofree)
    comparison.compare(ours, theirs, "root")
    return comparison.counts
