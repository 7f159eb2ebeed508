"""Mutation testing of the checker: wrong variants of every reference solution, made by AST
operators modelled on real student mistakes, and what ``check`` says about each.

The reference solution of an exercise is read from the solution notebooks
(``solutions/NN_*.ipynb``): the code cell with ``### BEGIN SOLUTION`` that defines a function of
the exercise's name. Exercises are discovered from the registry, so a new exercise (a new
function in a solution notebook, registered in ``course_lib.exercises``) is mutated without
editing this module.

Each operator has a *category* (``"shift"``, ``"keepdims"``, ``"temperature"``, ...). An
exercise maps categories to the names of the mistakes that describe them (:data:`NAMES`); a
mutant is *named right* when every mistake ``check`` names for it is one of those, *misnamed*
when one is not, *generic* when it is caught but nothing is named.

A mutant that no test catches is compared with the reference on a larger seeded battery (the
public tests and the hidden tests of :data:`BATTERY_SEEDS`): if they agree everywhere it is
*equivalent* and excluded, with that reason; if not, it is a *missed* mutant (a hole in the tests).
Mutants run in-process, called by the checker's own :func:`~course_lib.grading.run.run_case`.
"""

from __future__ import annotations

import ast
import copy
import json
import math
import signal
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from course_lib.grading import EXERCISES, judge
from course_lib.grading.run import run_case

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
HIDDEN_SEED = 0
BATTERY_SEEDS = range(1, 13)
TIME_LIMIT = 3.0  # seconds per call: a mutant may loop forever (a bisection that never closes)


# --- the reference solutions, from the solution notebooks -------------------------------------------
@dataclass
class Solution:
    name: str
    notebook: str
    function: ast.FunctionDef
    helpers: list  # every function the notebook's solution cells define (fit_temperature calls
    # cross_entropy), as source


def solutions() -> dict:
    """``{exercise name: Solution}`` for every registered exercise a solution notebook defines."""
    found = {}
    for path in sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        defs = []
        for cell in nb["cells"]:
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            if cell["cell_type"] != "code" or "### BEGIN SOLUTION" not in source:
                continue
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            defs += [node for node in tree.body if isinstance(node, ast.FunctionDef)]
        helpers = [ast.unparse(d) for d in defs]
        for d in defs:
            if d.name in EXERCISES and d.name not in found:
                found[d.name] = Solution(d.name, path.name, d, helpers)
    return found


def namespace(solution) -> dict:
    ns = {"np": np, "math": math, "__name__": "solution"}
    ns.update(_torch_names(solution))  # lesson 08's solutions call torch and F
    for source in solution.helpers:
        try:
            exec(compile(source, f"<{solution.notebook}>", "exec"), ns)
        except Exception:  # a helper that needs the notebook's other cells: leave it out
            pass
    return ns


def compiled(solution, fn: ast.FunctionDef, ns=None):
    ns = dict(namespace(solution) if ns is None else ns)
    code = compile(ast.Module([fn], []), f"<mutant of {solution.name}>", "exec")
    exec(code, ns)
    return ns[fn.name]


# --- mutation operators ------------------------------------------------------------------------------
def _is_call(node, *names):
    f = node.func if isinstance(node, ast.Call) else None
    return (isinstance(f, ast.Attribute) and f.attr in names) or (isinstance(f, ast.Name) and f.id in names)


def _kw(node, name):
    return next((k for k in node.keywords if k.arg == name), None) if isinstance(node, ast.Call) else None


def _name(node):
    return node.id if isinstance(node, ast.Name) else None


TEMPERATURE_NAMES = {"temperature", "tau", "T"}


def op_axis(node):
    """An ``axis=`` argument changed: -1 <-> 0, 1 -> 0, a variable -> 0."""
    k = _kw(node, "axis")
    if k is None:
        return
    v = k.value
    if isinstance(v, ast.UnaryOp) and isinstance(v.op, ast.USub):
        yield "axis", "axis=-1 -> axis=0", lambda n: setattr(_kw(n, "axis"), "value", ast.Constant(0))
    elif isinstance(v, ast.Constant) and v.value == 0:
        yield "axis", "axis=0 -> axis=-1", lambda n: setattr(_kw(n, "axis"), "value", ast.Constant(-1))
    elif isinstance(v, ast.Constant) and v.value == 1:
        yield "axis", "axis=1 -> axis=0", lambda n: setattr(_kw(n, "axis"), "value", ast.Constant(0))
    elif isinstance(v, ast.Name):
        yield "axis", f"axis={v.id} -> axis=0", lambda n: setattr(_kw(n, "axis"), "value", ast.Constant(0))


def op_whole_array(node):
    """``axis=`` dropped from a max or a sum: the whole array's max (sum)."""
    if _kw(node, "axis") is not None and _is_call(node, "max", "sum", "amax"):
        what = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
        cat = "global max" if what in ("max", "amax") else "whole array"

        def drop(n):
            n.keywords = [k for k in n.keywords if k.arg not in ("axis", "keepdims")]
        yield cat, f"{what}(axis=...) -> {what}() over the whole array", drop


def op_keepdims(node):
    if _kw(node, "keepdims") is not None:
        def drop(n):
            n.keywords = [k for k in n.keywords if k.arg != "keepdims"]
        yield "keepdims", "keepdims=True dropped", drop


def op_shift(node):
    """max -> min, max -> mean (of the shift)."""
    if isinstance(node, ast.Call) and _is_call(node, "max", "amax") and not isinstance(node.func, ast.Name):
        for new in ("min", "mean"):
            yield "shift", f".max -> .{new}", lambda n, new=new: setattr(n.func, "attr", new)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "max":
        yield "shift", "max(...) -> min(...)", lambda n: setattr(n.func, "id", "min")


def op_sign(node):
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub):
        yield "sign", "a - b -> a + b", lambda n: setattr(n, "op", ast.Add())
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        yield "sign", "a + b -> a - b", lambda n: setattr(n, "op", ast.Sub())
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and not isinstance(node.operand, ast.Constant):
        yield "sign", "-x -> x", lambda n: (setattr(n, "op", ast.UAdd()))


def op_exp_log(node):
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("exp", "log"):
        new = "log" if node.func.attr == "exp" else "exp"
        yield "exp/log", f"np.{node.func.attr} -> np.{new}", lambda n, new=new: setattr(n.func, "attr", new)


def op_scale(node):
    """Multiply instead of divide by a temperature or sqrt(d); drop the sqrt."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Mult)):
        r = node.right
        is_temp = _name(r) in TEMPERATURE_NAMES or (
            isinstance(r, ast.Call) and _is_call(r, "exp") and r.args and _name(r.args[0]) == "s")
        is_sqrt = isinstance(r, ast.Call) and _is_call(r, "sqrt")
        if is_temp or is_sqrt:
            cat = "temperature" if is_temp else "scale"
            new = ast.Mult() if isinstance(node.op, ast.Div) else ast.Div()
            sym = "*" if isinstance(new, ast.Mult) else "/"
            yield cat, f"divide <-> multiply: {sym} {ast.unparse(r)}", lambda n, new=new: setattr(n, "op", new)
            if is_sqrt:
                yield "scale", f"sqrt dropped: {ast.unparse(r.args[0])}", lambda n: setattr(n, "right", n.right.args[0])
            if is_temp:
                yield "temperature", "temperature ignored", lambda n: setattr(n, "right", ast.Constant(1.0))


def op_dtype(node):
    k = _kw(node, "dtype")
    if k is not None and isinstance(k.value, ast.Name) and k.value.id == "float":
        yield "float32", "dtype=float -> dtype=np.float32", lambda n: setattr(
            _kw(n, "dtype"), "value", ast.Attribute(ast.Name("np", ast.Load()), "float32", ast.Load()))

        def drop(n):
            n.keywords = [kk for kk in n.keywords if kk.arg != "dtype"]
        yield "integer", "dtype=float dropped (integers stay integers)", drop


def op_normalisation(node):
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.right, (ast.Call, ast.Name)):
        r = node.right
        if (isinstance(r, ast.Call) and _is_call(r, "sum")) or _name(r) in ("l", "s", "total"):
            yield "normalisation", f"division by {ast.unparse(r)} dropped", "left"


def op_returns(node):
    if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and len(node.value.elts) == 2:
        yield "return order", "the returned values swapped", lambda n: n.value.elts.reverse()


def op_no_return(node):
    if isinstance(node, ast.Return) and node.value is not None:
        yield "no return", "return dropped", lambda n: setattr(n, "value", None)


def op_comparison(node):
    swaps = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in swaps:
        new = swaps[type(node.ops[0])]
        yield "comparison", f"{type(node.ops[0]).__name__} -> {new.__name__}", lambda n, new=new: n.ops.__setitem__(0, new())
    k = _kw(node, "side")
    if k is not None and isinstance(k.value, ast.Constant):
        new = "left" if k.value.value == "right" else "right"
        yield "comparison", f"side={k.value.value!r} -> {new!r}", lambda n, new=new: setattr(_kw(n, "side"), "value", ast.Constant(new))


def op_off_by_one(node):
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Sub, ast.Add)) and \
            isinstance(node.right, ast.Constant) and node.right.value == 1:
        yield "off by one", f"{ast.unparse(node)} -> {ast.unparse(node.left)}", "left"
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Name):
        yield "off by one", f"[{node.slice.id}] -> [{node.slice.id} + 1]", lambda n: setattr(
            n, "slice", ast.BinOp(n.slice, ast.Add(), ast.Constant(1)))


def op_argmax(node):
    """A one-hot argmax (greedy) where probabilities belong: softmax weights -> argmax one-hot."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and _name(node.targets[0]) in ("pi", "p", "weights"):
        def greedy(n):
            v = n.value
            n.value = ast.parse(f"(np.arange(np.shape({ast.unparse(v)})[-1]) == np.argmax({ast.unparse(v)}, axis=-1)"
                                f"[..., None]).astype(float)").body[0].value
        yield "one-hot argmax", "probabilities replaced by a one-hot argmax", greedy


def op_baseline(node):
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) and _name(node.right) == "baseline":
        yield "baseline", "(reward - baseline) -> reward", "left"


def op_mask(node):
    """np.where(mask, s, -np.inf): the mask dropped, filled with 0 or -1e9; applied after."""
    if isinstance(node, ast.Call) and _is_call(node, "where") and len(node.args) == 3 and \
            _name(node.args[0]) == "mask" and ast.unparse(node.args[2]) == "-np.inf":
        yield "mask fill", "masked scores filled with 0", lambda n: n.args.__setitem__(2, ast.Constant(0.0))
        yield "mask fill", "masked scores filled with -1e9", lambda n: n.args.__setitem__(2, ast.Constant(-1e9))
        yield "mask dropped", "the mask is not applied", lambda n: setattr(n, "args", [ast.Constant(True)] + n.args[1:])


def op_sum_mean(node):
    """A sum where a mean belongs, or the other way round."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("sum", "mean"):
        new = "mean" if node.func.attr == "sum" else "sum"
        yield "mean/sum", f".{node.func.attr} -> .{new}", lambda n, new=new: setattr(n.func, "attr", new)


def op_shift_dropped(node):
    """The max trick left out: ``z - m`` (m a max) -> ``z``."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) and (
            _name(node.right) in ("m", "m_new") or (isinstance(node.right, ast.Call) and _is_call(node.right, "max"))):
        yield "shift", f"the shift dropped: {ast.unparse(node)} -> {ast.unparse(node.left)}", "left"


def op_exp_dropped(node):
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "exp" and node.args:
        def drop(n):
            return n.args[0]
        yield "exp/log", "np.exp dropped", "arg"


def op_max_argmax(node):
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "max":
        yield "argmax", ".max -> .argmax (an index, not a value)", lambda n: setattr(n.func, "attr", "argmax")


def op_asarray_dropped(node):
    """``z = np.asarray(z, ...)`` left out: a list stays a list."""
    if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and _is_call(node.value, "asarray") \
            and node.value.args and _name(node.value.args[0]) == _name(node.targets[0]):
        yield "conversion", "np.asarray(...) left out", lambda n: setattr(n, "value", n.value.args[0])


def op_divide_by_max(node):
    """Normalised by the max instead of the sum."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.right, ast.Call) \
            and _is_call(node.right, "sum"):
        yield "normalisation", "divided by the max instead of the sum", lambda n: setattr(n.right.func, "attr", "max")


def op_in_place(node):
    """``x = f(...)`` after ``x = np.asarray(x)``: ``a - b`` as ``a -= b`` (a statement-level
    operator, applied to the function body)."""
    return ()


OPERATORS = (op_axis, op_whole_array, op_keepdims, op_shift, op_sign, op_exp_log, op_scale,
             op_dtype, op_normalisation, op_returns, op_no_return, op_comparison, op_off_by_one,
             op_argmax, op_baseline, op_mask, op_sum_mean, op_shift_dropped, op_exp_dropped,
             op_divide_by_max, op_max_argmax, op_asarray_dropped)



# --- operators for lessons 01-04 (issue 16): the default axis, log1p and its largest term ----------
#: The exercises whose default ``axis`` is mutated (a default never tested on 2-D input survives).
DEFAULT_AXIS_EXERCISES = {"softmax_axis", "logits_from_probs", "stable_softmax", "logsumexp",
                          "log_softmax", "softmax_temperature"}


def op_default_axis(node):
    """``def f(z, axis=-1)`` -> ``def f(z, axis=0)``: the default axis is the other one."""
    if isinstance(node, ast.FunctionDef) and node.name in DEFAULT_AXIS_EXERCISES:
        names = [a.arg for a in node.args.args]
        if "axis" in names:
            i = names.index("axis") - (len(names) - len(node.args.defaults))
            if i >= 0:
                yield "axis", "default axis=-1 -> axis=0", lambda n, i=i: n.args.defaults.__setitem__(
                    i, ast.Constant(0))


def op_log1p(node):
    """``np.log1p(t)`` -> ``np.log(1 + t)`` (rounds a tiny t away) or ``np.log(t)``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
            node.func.attr == "log1p" and len(node.args) == 1:
        def one_plus(n):
            n.func.attr = "log"
            n.args[0] = ast.BinOp(ast.Constant(1.0), ast.Add(), n.args[0])
        yield "log1p", "np.log1p(t) -> np.log(1 + t)", one_plus
        yield "exp/log", "np.log1p(t) -> np.log(t)", lambda n: setattr(n.func, "attr", "log")


def op_delete_largest(node):
    """``np.delete(z, k)`` (one largest entry left out of t): nothing left out, or every entry
    equal to the max left out."""
    if isinstance(node, ast.Call) and _is_call(node, "delete") and len(node.args) == 2:
        yield "max term kept", "np.delete(z, k) -> z (the largest term stays in t)", "arg"
        z, k = (ast.unparse(a) for a in node.args)
        yield "ties", "np.delete(z, k) -> every entry equal to the max left out", lambda n: \
            n.args.__setitem__(1, ast.parse(f"np.flatnonzero({z} == {z}[{k}])").body[0].value)


def op_argmax_argmin(node):
    """``np.argmax(z)`` -> ``np.argmin(z)``: the term taken out is the smallest."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
            node.func.attr == "argmax" and _name(node.func.value) == "np" and not node.keywords:
        yield "shift", "np.argmax -> np.argmin (the smallest term taken out)", \
            lambda n: setattr(n.func, "attr", "argmin")


OPERATORS = OPERATORS + (op_default_axis, op_log1p, op_delete_largest, op_argmax_argmin)

#: Exercises whose normalisation is a step of its own (filter, then renormalise): there a sum
#: or a mean changed in ``q / q.sum(...)`` is a normalisation mistake, not a change of what is
#: filtered (the category :func:`op_whole_array` or :func:`op_sum_mean` gives it elsewhere).
NORMALISATION_STEP = {"top_p_filter"}


def _normalisers(fn):
    """The divisions ``x / x.sum(...)`` (or ``.mean``, ``.max``) in ``fn``, as source."""
    return [ast.unparse(n) for n in ast.walk(fn) if isinstance(n, ast.BinOp) and
            isinstance(n.op, ast.Div) and isinstance(n.right, ast.Call) and
            isinstance(n.right.func, ast.Attribute) and n.right.func.attr in ("sum", "mean", "max")
            and ast.unparse(n.right.func.value) == ast.unparse(n.left)]


def _with_normalisation_category(mutants_of):
    def mutants(solution):
        out = mutants_of(solution)
        if solution.name in NORMALISATION_STEP:
            before = _normalisers(solution.function)
            for m in out:
                if m.category in ("whole array", "mean/sum") and _normalisers(m.function) != before:
                    m.category = "normalisation"
        return out
    mutants.__doc__ = mutants_of.__doc__
    return mutants


@dataclass
class Mutant:
    exercise: str
    category: str
    description: str
    line: int
    function: ast.FunctionDef = field(repr=False)

    @property
    def source(self) -> str:
        return ast.unparse(self.function)


def _in_place_mutants(fn: ast.FunctionDef):
    """``y = ... a - b ...`` with ``a`` a parameter re-bound by np.asarray: ``a -= b`` first.
    np.asarray of a float array is the array itself, so this writes into the caller's array."""
    params = {a.arg for a in fn.args.args}
    out = []
    for i, stmt in enumerate(fn.body):
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            # an operation inside a nested function (fit_temperature's nll(s)) may use its local
            # names: ``z /= np.exp(s)`` hoisted before the ``def`` is a NameError, not an update
            # in place, and inside it ``z`` would become local (an UnboundLocalError)
            continue
        for node in ast.walk(stmt):
            if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Sub, ast.Div)) and \
                    _name(node.left) in params and i > 0:
                target = node.left.id
                new = copy.deepcopy(fn)
                s = new.body[i]
                for n2 in ast.walk(s):
                    if isinstance(n2, ast.BinOp) and ast.dump(n2) == ast.dump(node):
                        aug = ast.AugAssign(ast.Name(target, ast.Store()), type(node.op)(), n2.right)
                        n2.__class__ = ast.Name
                        n2.id, n2.ctx = target, ast.Load()
                        for attr in ("left", "op", "right"):
                            delattr(n2, attr)
                        new.body.insert(i, aug)
                        break
                ast.fix_missing_locations(new)
                sym = "-=" if isinstance(node.op, ast.Sub) else "/="
                out.append(("in place", f"{target} {sym} {ast.unparse(node.right)} (in place)", stmt.lineno, new))
                break
    return out


def mutants(solution: Solution) -> list:
    """Every mutant of ``solution``'s function, one change each, duplicates (same source) removed."""
    fn = solution.function
    out, seen = [], {ast.unparse(fn)}
    nodes = list(ast.walk(fn))
    for op in OPERATORS + _opted_in_operators(fn):
        for index, node in enumerate(nodes):
            if node is fn.args or isinstance(node, ast.arguments):
                continue
            for category, description, apply in op(node):
                new = copy.deepcopy(fn)
                target = list(ast.walk(new))[index]
                if apply in ("left", "arg"):  # replace the node by a part of it, in its parent
                    part = target.left if apply == "left" else target.args[0]
                    for parent in ast.walk(new):
                        for name, value in ast.iter_fields(parent):
                            if value is target:
                                setattr(parent, name, part)
                            elif isinstance(value, list) and any(v is target for v in value):
                                value[[i for i, v in enumerate(value) if v is target][0]] = part
                else:
                    apply(target)
                ast.fix_missing_locations(new)
                source = ast.unparse(new)
                if source in seen:
                    continue
                seen.add(source)
                out.append(Mutant(solution.name, category, description,
                                  getattr(node, "lineno", fn.lineno), new))
    for category, description, line, new in _in_place_mutants(fn):
        source = ast.unparse(new)
        if source not in seen:
            seen.add(source)
            out.append(Mutant(solution.name, category, description, line, new))
    return out


mutants = _with_normalisation_category(mutants)


# --- running them -------------------------------------------------------------------------------------
class _TimeUp(Exception):
    pass


def _alarm(signum, frame):
    raise _TimeUp(f"no result within {TIME_LIMIT} s")


def _run(f, case, parts):
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT)
    try:
        return run_case(f, case, parts)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def grade(ex, f, cases, hidden=False):
    outcomes = {c.name: _run(f, c, ex.returns) for c in cases}
    return judge(ex, cases, outcomes, hidden=frozenset(outcomes) if hidden else frozenset())


@dataclass
class Verdict:
    mutant: Mutant
    public: bool            # caught by the public tests
    hidden: bool            # caught by the hidden tests (seed HIDDEN_SEED)
    named: tuple            # mistakes named (public and hidden)
    allowed: frozenset      # the names that describe the mutant's category here
    equivalent: str = ""    # why it is excluded, for an uncaught mutant that is equivalent
    missed: str = ""        # for an uncaught mutant that is not: the input that tells it apart

    @property
    def caught(self):
        return self.public or self.hidden

    @property
    def registered(self):
        return bool(self.allowed)

    @property
    def status(self):
        if self.equivalent:
            return "equivalent"
        if not self.caught:
            return "missed"
        if not self.named:
            return "generic"
        return "named" if set(self.named) <= self.allowed else "misnamed"


def _agrees(ex, f, cases):
    """None if ``f`` agrees with the reference on every case, else the first case that differs."""
    for c in cases:
        o = _run(f, c, ex.returns)
        if o.error is not None and o.error.startswith("_TimeUp"):
            return c
        if ex.compare(o, c) is not None or o.mutated:
            return c
    return None


_HIDDEN: dict = {}


def hidden_cases(ex, seed):
    """The hidden tests of ``seed``, the same objects every time (so known values are reused)."""
    if (ex.name, seed) not in _HIDDEN:
        _HIDDEN[ex.name, seed] = ex.hidden_cases(seed)
    return _HIDDEN[ex.name, seed]


def judge_mutant(m: Mutant, solution: Solution, ns=None) -> Verdict:
    ex = EXERCISES[m.exercise]
    # a category is registered for an exercise when it maps to mistakes the exercise has
    allowed = (frozenset(NAMES.get(m.exercise, {}).get(m.category, ())) | DEFAULT.get(m.category, set())) \
        & {x.name for x in ex.mistakes}
    try:
        f = compiled(solution, m.function, ns)
    except Exception as exc:  # a mutant that does not compile is caught by any test
        return Verdict(m, True, True, (), allowed, equivalent=f"does not compile ({exc})")
    pub = grade(ex, f, list(ex.public))
    hid = grade(ex, f, hidden_cases(ex, HIDDEN_SEED), hidden=True)
    named = tuple(dict.fromkeys([n for n, _ in pub.mistakes] + [n for n, _ in hid.mistakes]))
    v = Verdict(m, not pub.passed, not hid.passed, named, allowed)
    if not v.caught:
        reason = EQUIVALENT.get(m.exercise, {}).get(m.description)
        battery = [c for s in BATTERY_SEEDS for c in hidden_cases(ex, s)]
        differs = _agrees(ex, f, battery)
        if differs is None:
            v.equivalent = reason or (f"agrees with the reference on {len(ex.public)} public tests "
                                      f"and {len(battery)} hidden tests (seeds "
                                      f"{BATTERY_SEEDS.start}-{BATTERY_SEEDS.stop - 1})")
        else:
            v.missed = f"differs on a hidden test of the battery ({differs.describe(ex.params)[:80]})"
    return v


def run_all(names=None) -> list:
    sols = solutions()
    verdicts = []
    for name in (names or [n for n in EXERCISES if n in sols]):
        sol = sols[name]
        ns = namespace(sol)
        for m in mutants(sol):
            verdicts.append(judge_mutant(m, sol, ns))
    return verdicts


# --- which mistakes describe which category, per exercise ----------------------------------------------
_COMMON = {
    "no return": ("no return",),
    "integer": ("integer input",),
    "in place": ("modifies its input", "integer input"),
    "float32": ("computes in float32",),
    "argmax": ("no max trick",),  # z - argmax(z): a shift all the same, not by the max
}
_SOFTMAX = dict(_COMMON, **{
    "mean/sum": ("not normalised",),
    "shift": ("shift by the min", "shift by the mean", "no max trick"),
    "sign": ("no max trick", "sign error"),
    "exp/log": ("exp and log swapped",),
    "normalisation": ("not normalised",),
    "float32": ("computes in float32",),
})
_AXIS = dict(_SOFTMAX, **{
    "axis": ("wrong axis", "ignores axis", "broadcast error", "max along another axis"),
    "keepdims": ("max without keepdims", "broadcast error", "sum without keepdims"),
    "global max": ("global max", "whole array"),
    "whole array": ("whole array", "not normalised", "normalised over the whole array"),
})

NAMES = {
    "softmax": _SOFTMAX,
    "softmax_axis": _AXIS,
    "stable_softmax": _AXIS,
    "logsumexp": dict(_AXIS, **{"keepdims": ("max without keepdims", "broadcast error", "keeps the axis"),
                                "sign": ("no max trick", "max not added back", "sign error"),
                                "global max": ("global max",), "whole array": ("whole array",)}),
    "log_softmax": dict(_AXIS, **{"sign": ("no max trick", "max not added back", "sign error"),
                                  "shift": ("shift by the min", "shift by the mean", "no max trick",
                                            "max not added back")}),
    "softmax_temperature": dict(_AXIS, **{"temperature": ("temperature multiplied", "temperature ignored")}),
    "sample_with_temperature": dict(_COMMON, **{
        "temperature": ("temperature multiplied", "temperature ignored"),
        "shift": ("no max trick",), "sign": ("no max trick", "sign error"),
        "normalisation": ("not normalised",),
        "comparison": ("u <= c instead of u < c",),
        "off by one": ("off by one", "one-based indices"),
        "float32": ("computes in float32",),
    }),
    "cross_entropy": dict(_COMMON, **{
        "mean/sum": ("summed, not averaged", "averaged over classes too"),
        "shift": ("no max trick",), "sign": ("sign flipped", "no max trick", "sign error"),
        "global max": ("global max",), "axis": ("wrong axis",),
        "float32": ("computes in float32",),
    }),
    "expected_calibration_error": dict(_COMMON, **{
        "comparison": ("left-closed bins", "last bin drops confidence 1.0"),
        "shift": ("confidence is not the max",),
    }),
    # fit_temperature's sign flips land in the golden-section search (the bracket's ends and
    # inner points, the loop's condition): the mistake they make is a search that leaves its
    # interval (nan), ends at one place for every input, or ends away from the NLL's minimum.
    # Its exp/log swaps land in the range (an end that is exp of a temperature: a range too
    # narrow or infinite), the score (dividing by s or log s where T = exp(s) belongs) and the
    # return (log T, or a log of the middle of the log interval: not a positive number). Its one
    # "off by one" site is the golden-section factor (sqrt(5) - 1) / 2 -> sqrt(5) / 2, above 1,
    # so the inner points leave the interval and the search gives nan or never ends; its one
    # "no return" site besides the function's own is the scoring helper.
    "fit_temperature": dict(_COMMON, **{
        "temperature": ("temperature multiplied", "same temperature for every input"),
        "sign": ("same temperature for every input", "not a positive temperature",
                 "NLL not at its minimum"),
        "exp/log": ("same temperature for every input", "returns log T", "not a positive temperature",
                    "search range too narrow", "score and returned T differ"),
        "off by one": ("not a positive temperature",),
        "no return": ("no return", "score returns None"),
    }),
    "masked_softmax": dict(_AXIS, **{
        "shift": ("no max trick", "shift by the mean", "shift by the min"),
        "mask fill": ("mask filled with 0", "fully masked row is uniform", "fully masked row gives nan"),
        "mask dropped": ("mask ignored",),
    }),
    "online_softmax": dict(_SOFTMAX, **{
        "normalisation": ("not normalised", "no rescale", "divided by the wrong sum"),
        "sign": ("no max trick", "divided by the wrong sum", "no rescale"),
        "shift": ("no max trick", "divided by the wrong sum", "no rescale"),
    }),
    "scaled_dot_product_attention": dict(_COMMON, **{
        "scale": ("no scale", "scale by d_k", "scale multiplied"),
        "shift": ("no max trick",), "sign": ("no max trick",),
        "return order": ("outputs in the wrong order",),
        "axis": ("softmax over the queries' axis",),
        "mask fill": ("mask filled with 0", "fully masked row is uniform", "fully masked row gives nan"),
        "mask dropped": ("mask ignored",),
    }),
    "boltzmann_policy": dict(_AXIS, **{"temperature": ("temperature multiplied", "temperature ignored"),
                                       "axis": ("wrong axis", "normalised over the whole array",
                                                "max along another axis")}),
    "gradient_bandit_step": dict(_COMMON, **{
        "sign": ("sign error", "no max trick"), "baseline": ("baseline ignored",),
        "one-hot argmax": ("greedy policy in the update",),
        "shift": ("no max trick",),
        "normalisation": ("policy not normalised",), "mean/sum": ("policy not normalised",),
    }),
}

#: For every exercise (new ones included): the mistakes whose names describe a category
#: whichever exercise has them (an exercise's own entry in NAMES adds to these).
DEFAULT = {
    "no return": {"no return"},
    "integer": {"integer input"},
    "in place": {"modifies its input", "integer input"},
    "float32": {"computes in float32"},
    "shift": {"no max trick", "shift by the min", "shift by the mean"},
    "argmax": {"no max trick"},
    "sign": {"sign error", "sign flipped", "plus instead of minus", "no max trick"},
    "axis": {"wrong axis", "ignores axis", "mean over the features"},
    "comparison": {"left-closed bins", "last bin drops confidence 1.0", "u <= c instead of u < c",
                   "a zero probability gives nan"},
    "keepdims": {"max without keepdims", "mean without keepdims", "broadcast error"},
    "global max": {"global max"},
    "whole array": {"whole array", "normalised over the whole array"},
    "normalisation": {"not normalised"},
    "temperature": {"temperature multiplied", "temperature ignored"},
    "return order": {"outputs in the wrong order", "returned in the wrong order"},
    "baseline": {"baseline ignored"},
    "one-hot argmax": {"greedy", "greedy one-hot policy"},
}

#: Mutants known to be equivalent, by exercise and description, with the reason.
EQUIVALENT: dict = {}


# --- lessons 01-04 (issue 16): the mistakes added for their mutants ------------------------------------
def _add_names(exercise, **categories):
    """Add names to ``NAMES[exercise]`` (keyword: a category with spaces as underscores)."""
    table = dict(NAMES.get(exercise, {}))
    for category, names in categories.items():
        category = category.replace("_", " ")
        table[category] = tuple(dict.fromkeys(table.get(category, ()) + tuple(names)))
    NAMES[exercise] = table


_add_names("two_class_softmax", shift=("no max trick", "a and b shifted differently"),
           sign=("no max trick", "sign error"))
_add_names("logits_from_probs", axis=("sum and count along different axes",),
           whole_array=("sum and count along different axes", "one mean for the whole array"))
_add_names("logsumexp", axis=("axis 0 hard-coded",), shift=("exp not shifted",))
_add_names("log_softmax", shift=("exp not shifted",))
_add_names("logsumexp_log1p", log1p=("log instead of log1p",),
           max_term_kept=("largest term kept in t",), ties=("every tied maximum removed",),
           shift=("shift by the min", "no max trick"), sign=("sign error",))
_add_names("sample_with_temperature", off_by_one=("index past the last token",),
           sign=("index past the last token",))
_add_names("top_p_filter", keepdims=("sum without keepdims",),
           comparison=("token that reaches top_p dropped", "top_p = 1 drops a token",
                       "token past top_p kept"))


# --- the report -------------------------------------------------------------------------------------
COLUMNS = ("mutants", "public", "hidden", "named", "misnamed", "generic", "equivalent", "missed")


def table(verdicts) -> dict:
    rows = {}
    for v in verdicts:
        r = rows.setdefault(v.mutant.exercise, dict.fromkeys(COLUMNS, 0) | {"registered": 0, "reg_named": 0})
        r["mutants"] += 1
        if v.status == "equivalent":
            r["equivalent"] += 1
            continue
        r["public"] += v.public
        r["hidden"] += v.hidden
        r[v.status] += 1
        if v.registered:
            r["registered"] += 1
            r["reg_named"] += v.status == "named"
    return rows


def report(verdicts) -> str:
    rows = table(verdicts)
    head = (f"{'exercise':30s} {'mutants':>7s} {'public':>6s} {'hidden':>6s} {'named':>5s} "
            f"{'misnamed':>8s} {'generic':>7s} {'equiv.':>6s} {'missed':>6s} {'named/registered':>16s}")
    lines = [head, "-" * len(head)]
    total = dict.fromkeys(COLUMNS, 0) | {"registered": 0, "reg_named": 0}
    for name, r in rows.items():
        for k in total:
            total[k] += r[k]
        share = f"{r['reg_named']}/{r['registered']}"
        lines.append(f"{name:30s} {r['mutants']:7d} {r['public']:6d} {r['hidden']:6d} {r['named']:5d} "
                     f"{r['misnamed']:8d} {r['generic']:7d} {r['equivalent']:6d} {r['missed']:6d} {share:>16s}")
    share = f"{total['reg_named']}/{total['registered']}"
    lines.append("-" * len(head))
    lines.append(f"{'total':30s} {total['mutants']:7d} {total['public']:6d} {total['hidden']:6d} "
                 f"{total['named']:5d} {total['misnamed']:8d} {total['generic']:7d} "
                 f"{total['equivalent']:6d} {total['missed']:6d} {share:>16s}")
    return "\n".join(lines)


# --- PyTorch operators (lesson 08) ----------------------------------------------------------------------
# The AST operators above reach numpy code; a PyTorch solution is a line or two of torch calls
# (F.softmax, F.cross_entropy, F.scaled_dot_product_attention), which they leave alone. These
# operators make the mistakes learners make with those calls: another dim or none, log_softmax
# for softmax, probabilities given to a loss that wants logits, float32/float16 casts, a mask of the
# wrong polarity or axis, filled with 0 or a large finite number, a scale dropped or multiplied,
# transposes, a sum for a mean, in-place updates of a tensor that shares the caller's memory, and
# the by-hand versions of these calls. They apply only to a function that calls torch (a category
# opt-in by the code itself), so numpy exercises get exactly the mutants they had.
def _torch_names(solution) -> dict:
    """``torch`` and ``F`` for a solution that uses them (none when torch is not installed)."""
    if not any("torch" in h for h in solution.helpers):
        return {}
    try:
        import torch
        import torch.nn.functional as functional
    except ImportError:
        return {}
    return {"torch": torch, "F": functional}


def _uses_torch(fn) -> bool:
    return any(isinstance(n, ast.Name) and n.id in ("torch", "F") for n in ast.walk(fn))


def _torch_operators(fn) -> tuple:
    return TORCH_OPERATORS if _uses_torch(fn) else ()


def _is_f(node, *names):
    """A call ``F.<name>(...)`` (``torch.nn.functional``)."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
        node.func.attr in names and _name(node.func.value) == "F"


def _become(node, source):
    """Turn ``node`` (in place, so its parent keeps it) into the expression ``source``."""
    new = ast.parse(source, mode="eval").body
    node.__class__ = type(new)
    for name in new._fields:
        setattr(node, name, getattr(new, name))
    return node


def _src(node):
    return ast.unparse(node)


def _call_source(node, args=None, **keywords):
    """``node``'s call with its positional ``args`` replaced and keyword arguments set
    (``None`` removes one)."""
    args = [_src(a) for a in node.args] if args is None else args
    kws = {k.arg: _src(k.value) for k in node.keywords}
    for k, v in keywords.items():
        if v is None:
            kws.pop(k, None)
        else:
            kws[k] = v
    return f"{_src(node.func)}({', '.join(args + [f'{k}={v}' for k, v in kws.items()])})"


def op_torch_dim(node):
    """``dim=-1`` of a softmax changed to 0, 1 or -2, or left out (torch then guesses one)."""
    if _is_f(node, "softmax", "log_softmax") and _kw(node, "dim") is not None:
        old = _src(_kw(node, "dim").value)
        for new in ("0", "1", "-2"):
            if new != old:
                yield "torch dim", f"dim={old} -> dim={new}", \
                    lambda n, new=new: _become(n, _call_source(n, dim=new))
        yield "torch dim", "dim left out (torch guesses one)", \
            lambda n: _become(n, _call_source(n, dim=None))


def op_torch_transpose(node):
    """The softmax taken of the transposed logits (and transposed back): another dim."""
    if _is_f(node, "softmax") and node.args:
        x = _src(node.args[0])
        yield "torch dim", f"softmax of {x}.transpose(0, -1), transposed back", lambda n: _become(
            n, f"{_call_source(n, [f'{x}.transpose(0, -1)'])}.transpose(0, -1)")


def op_torch_log_softmax(node):
    """F.softmax -> F.log_softmax (log-probabilities returned), and the other way round."""
    if _is_f(node, "softmax", "log_softmax"):
        new = "log_softmax" if node.func.attr == "softmax" else "softmax"
        yield "torch log_softmax", f"F.{node.func.attr} -> F.{new}", \
            lambda n, new=new: setattr(n.func, "attr", new)


def op_torch_sigmoid(node):
    """A sigmoid of each logit where the softmax of the row belongs."""
    if _is_f(node, "softmax") and node.args:
        yield "torch sigmoid", "F.softmax -> torch.sigmoid (each logit on its own)", \
            lambda n: _become(n, f"torch.sigmoid({_src(n.args[0])})")


def op_torch_by_hand(node):
    """F.softmax written by hand: exp without the max trick, a sum without keepdim, exp only."""
    if _is_f(node, "softmax") and node.args:
        x = _src(node.args[0])
        yield "torch no max trick", "F.softmax by hand without the max trick", lambda n: _become(
            n, f"torch.exp({x}) / torch.exp({x}).sum(dim=-1, keepdim=True)")
        yield "torch keepdim", "F.softmax by hand, the sum without keepdim", lambda n: _become(
            n, f"torch.exp({x} - {x}.amax(dim=-1, keepdim=True)) / "
               f"torch.exp({x} - {x}.amax(dim=-1, keepdim=True)).sum(dim=-1)")
        yield "torch normalisation", "F.softmax -> torch.exp (not normalised)", lambda n: _become(
            n, f"torch.exp({x} - {x}.amax(dim=-1, keepdim=True))")


def op_torch_one_hot(node):
    """The probabilities replaced by a one-hot of the argmax."""
    if _is_f(node, "softmax") and node.args:
        x = _src(node.args[0])
        yield "one-hot argmax", "F.softmax -> one-hot of the argmax", lambda n: _become(
            n, f"F.one_hot({x}.argmax(dim=-1), {x}.shape[-1]).to({x}.dtype)")


def op_torch_float32(node):
    """float32 or float16 casts: of a call's tensor arguments, or in torch.as_tensor."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
            node.func.attr == "as_tensor" and _name(node.func.value) == "torch" and \
            _kw(node, "dtype") is None and node.args and _name(node.args[0]) not in ("y", "pad", "a"):
        yield "float32", "torch.as_tensor(..., dtype=torch.float32)", \
            lambda n: _become(n, _call_source(n, dtype="torch.float32"))
    if _is_f(node, "softmax", "cross_entropy", "scaled_dot_product_attention") and node.args:
        tensors = node.args[:1] if node.func.attr != "scaled_dot_product_attention" else node.args[:3]
        for cast, cat in (("float", "float32"), ("half", "float16")):
            def apply(n, cast=cast, count=len(tensors)):
                args = [_src(a) for a in n.args]
                args[:count] = [f"{a}.{cast}()" for a in args[:count]]
                _become(n, _call_source(n, args))
            yield "float32", f"the tensors cast with .{cast}() ({cat})", apply
    if _is_f(node, "softmax"):
        yield "float32", "F.softmax(..., dtype=torch.float32)", \
            lambda n: _become(n, _call_source(n, dtype="torch.float32"))


def op_torch_in_place(node):
    """An in-place update of a tensor from torch.as_tensor, which shares the caller's array."""
    if _is_f(node, "softmax", "cross_entropy") and node.args and _name(node.args[0]):
        x = node.args[0].id
        dim = "-1" if node.func.attr == "softmax" else "1"
        yield "in place", f"{x}.sub_({x}.amax(...)) (in place)", lambda n: _become(n, _call_source(
            n, [f"{x}.sub_({x}.amax(dim={dim}, keepdim=True))"] + [_src(a) for a in n.args[1:]]))
    if _is_f(node, "scaled_dot_product_attention") and node.args and _name(node.args[0]):
        q = node.args[0].id
        yield "in place", f"{q}.div_(sqrt(d)) (in place) with scale=1.0", lambda n: _become(
            n, _call_source(n, [f"{q}.div_({q}.shape[-1] ** 0.5)"] + [_src(a) for a in n.args[1:]],
                            scale="1.0"))


def op_torch_conversion(node):
    """torch.as_tensor left out: a numpy array reaches a torch function."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
            node.func.attr == "as_tensor" and _name(node.func.value) == "torch" and node.args:
        yield "conversion", "torch.as_tensor(...) left out", "arg"


def op_torch_loss(node):
    """F.cross_entropy given probabilities or their log, or log-probabilities over the batch;
    nll_loss on logits; label smoothing dropped; reduction 'sum' or 'none'; the sign flipped."""
    if _is_f(node, "cross_entropy") and node.args:
        z = _src(node.args[0])
        rest = [_src(a) for a in node.args[1:]]
        yield "torch probabilities", "F.cross_entropy of F.softmax(z) (probabilities)", \
            lambda n: _become(n, _call_source(n, [f"F.softmax({z}, dim=1)"] + rest))
        yield "torch log of softmax", "F.cross_entropy of torch.log(F.softmax(z))", \
            lambda n: _become(n, _call_source(n, [f"torch.log(F.softmax({z}, dim=1))"] + rest))
        yield "torch dim", "F.cross_entropy of F.log_softmax(z, dim=0) (over the batch)", \
            lambda n: _become(n, _call_source(n, [f"F.log_softmax({z}, dim=0)"] + rest))
        yield "torch nll on logits", "F.cross_entropy -> F.nll_loss of the logits", \
            lambda n: _become(n, f"F.nll_loss({', '.join([z] + rest)})")
        if _kw(node, "label_smoothing") is not None:
            yield "torch smoothing", "label_smoothing dropped", \
                lambda n: _become(n, _call_source(n, label_smoothing=None))
        yield "mean/sum", "reduction='sum'", lambda n: _become(n, _call_source(n, reduction="'sum'"))
        yield "mean/sum", "reduction='none' (one loss per example)", \
            lambda n: _become(n, _call_source(n, reduction="'none'"))
        yield "sign", "the loss negated", lambda n: _become(n, f"-{_src(n)}")


def op_torch_mask(node):
    """The padding mask: inverted, laid along the queries, left out, or given as floats."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
        yield "torch mask polarity", f"~{_src(node.operand)} -> {_src(node.operand)} (inverted)", \
            lambda n: _become(n, _src(n.operand))
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Tuple) and \
            [_src(e) for e in node.slice.elts] == [":", "None", ":"]:
        yield "torch mask axis", f"{_src(node)} -> mask over the queries' axis", lambda n: setattr(
            n, "slice", ast.parse("x[:, :, None]", mode="eval").body.slice)
    if _is_f(node, "scaled_dot_product_attention") and _kw(node, "attn_mask") is not None:
        mask = _src(_kw(node, "attn_mask").value)
        yield "mask dropped", "attn_mask left out", lambda n: _become(n, _call_source(n, attn_mask=None))
        yield "torch float mask", "attn_mask given as 0/1 floats", lambda n: _become(
            n, _call_source(n, attn_mask=f"{mask}.to({_src(n.args[0])}.dtype)"))


def op_torch_scale(node):
    """The 1/sqrt(d) of scaled_dot_product_attention dropped, multiplied, or 1/d."""
    if _is_f(node, "scaled_dot_product_attention") and node.args and _kw(node, "scale") is None:
        q = _src(node.args[0])
        for scale, what in (("1.0", "dropped (scale=1.0)"), (f"{q}.shape[-1] ** 0.5", "multiplied"),
                            (f"1.0 / {q}.shape[-1]", "1/d instead of 1/sqrt(d)")):
            yield "scale", f"the scale {what}", lambda n, scale=scale: _become(n, _call_source(n, scale=scale))


def op_torch_attention_by_hand(node):
    """scaled_dot_product_attention written by hand, with one of its usual slips."""
    if _is_f(node, "scaled_dot_product_attention") and len(node.args) == 3 and \
            _kw(node, "attn_mask") is not None:
        q, k, v = (_src(a) for a in node.args)
        mask = _src(_kw(node, "attn_mask").value)
        s = f"{q} @ {k}.transpose(-2, -1) / math.sqrt({q}.shape[-1])"
        for fill, cat, what in (("float('-inf')", "mask fill", "-inf (nan for a row with no key)"),
                                ("-1e9", "mask fill", "-1e9 (uniform row with no key)"),
                                ("0.0", "mask fill", "0")):
            yield cat, f"by hand, masked scores filled with {what}", lambda n, fill=fill: _become(
                n, f"F.softmax(({s}).masked_fill(~({mask}), {fill}), dim=-1) @ {v}")
        yield "torch dim", "by hand, the softmax over the queries (dim=-2)", lambda n: _become(
            n, f"torch.nan_to_num(F.softmax(({s}).masked_fill(~({mask}), float('-inf')), dim=-2)) @ {v}")
        yield "torch transpose", "by hand, k not transposed (q @ k)", lambda n: _become(
            n, f"torch.nan_to_num(F.softmax(({q} @ {k} / math.sqrt({q}.shape[-1]))"
               f".masked_fill(~({mask}), float('-inf')), dim=-1)) @ {v}")
        yield "mask after", "by hand, the mask applied after the softmax", lambda n: _become(
            n, f"(F.softmax({s}, dim=-1) * ({mask})) @ {v}")


TORCH_OPERATORS = (op_torch_dim, op_torch_transpose, op_torch_log_softmax, op_torch_sigmoid,
                   op_torch_by_hand, op_torch_one_hot, op_torch_float32, op_torch_in_place,
                   op_torch_conversion, op_torch_loss, op_torch_mask, op_torch_scale,
                   op_torch_attention_by_hand)


NAMES.update({
    "torch_softmax_dim": dict(_COMMON, **{
        "torch dim": ("wrong dim", "no dim"), "torch no max trick": ("no max trick",),
        "torch log_softmax": ("log-probabilities",), "torch sigmoid": ("sigmoid instead of softmax",),
        "torch normalisation": ("not normalised",), "float32": ("computed in float32",),
    }),
    "torch_cross_entropy_logits": dict(_COMMON, **{
        "torch dim": ("wrong dim",), "torch probabilities": ("softmax before the loss",),
        "torch log of softmax": ("log(softmax)",), "torch nll on logits": ("nll_loss on logits",),
        "torch smoothing": ("label smoothing ignored",),
        "mean/sum": ("summed, not averaged", "no reduction"), "float32": ("computed in float32",),
    }),
    "torch_masked_attention": dict(_COMMON, **{
        "torch mask polarity": ("mask of the wrong polarity",), "mask dropped": ("mask not used",),
        "torch float mask": ("float 0/1 mask",), "torch mask axis": ("mask over the queries",),
        "scale": ("no scale", "scale multiplied", "scale by d"),
        "mask fill": ("fully masked row gives nan", "fully masked row is uniform", "mask filled with 0"),
        "float32": ("computed in float32",),
    }),
})

# lesson 05's binning: bins closed on both sides count an edge confidence twice (issue 16)
NAMES["expected_calibration_error"] = dict(NAMES["expected_calibration_error"], comparison=(
    *NAMES["expected_calibration_error"]["comparison"], "bins closed on both sides"))

# lesson 05's cross-entropy: the max trick in one term only, the log-sum-exp's sign, a mean in it
NAMES["cross_entropy"] = dict(NAMES["cross_entropy"], **{
    "sign": (*NAMES["cross_entropy"]["sign"], "shift in one term only", "log-sum-exp added"),
    "shift": (*NAMES["cross_entropy"]["shift"], "shift in one term only"),
    "mean/sum": (*NAMES["cross_entropy"]["mean/sum"], "mean inside the log-sum-exp"),
})

# lessons 06-07: sign slips and a running max that never becomes a number, named (issue 16)
# "nan from the first step" names a symptom (nan on every test), not a cause: it describes a
# running max started at +inf or updated with min as well as an exp/log swap that gives nan
NAMES["online_softmax"] = dict(NAMES["online_softmax"], **{
    "shift": (*NAMES["online_softmax"]["shift"], "nan from the first step"),
    "sign": (*NAMES["online_softmax"]["sign"], "nan from the first step",
             "term subtracted from the running sum"),
    "exp/log": (*NAMES["online_softmax"]["exp/log"], "nan from the first step", "exp left out"),
})
NAMES["scaled_dot_product_attention"] = dict(NAMES["scaled_dot_product_attention"], **{
    "axis": (*NAMES["scaled_dot_product_attention"]["axis"], "max along another axis"),
    "float32": (*NAMES["scaled_dot_product_attention"]["float32"], "inputs converted to float32"),
})
NAMES["gradient_bandit_step"] = dict(NAMES["gradient_bandit_step"], sign=(
    *NAMES["gradient_bandit_step"]["sign"], "baseline added", "policy added"))
NAMES["gradient_bandit_run"] = dict(_COMMON, **{
    "sign": ("sign error", "running average miscomputed", "baseline added", "policy added"),
    "normalisation": ("policy not normalised",), "one-hot argmax": ("greedy policy in the update",),
    "shift": ("no max trick",),
})


# --- operators an exercise opts into (issue 16) -------------------------------------------------------
# Mistakes of one exercise's own algebra, kept out of OPERATORS so that the other exercises get
# exactly the mutants they had: merging two partial softmax states (lesson 06).
def op_merge_max(node):
    """np.maximum -> np.minimum: the common max taken as the smaller one."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "maximum":
        yield "shift", "np.maximum -> np.minimum", lambda n: setattr(n.func, "attr", "minimum")


def op_merge_guard(node):
    """np.where(np.isfinite(m), m, 0.0) -> m: the shift of an empty state left at -inf."""
    if isinstance(node, ast.Call) and _is_call(node, "where") and len(node.args) == 3 and \
            isinstance(node.args[0], ast.Call) and _is_call(node.args[0], "isfinite"):
        yield "guard", f"{ast.unparse(node)} -> {ast.unparse(node.args[1])}", \
            lambda n: _become(n, ast.unparse(n.args[1]))


def op_merge_new_axis(node):
    """factor[:, None] -> factor: one factor per query broadcast along the wrong axis."""
    if isinstance(node, ast.Subscript) and _name(node.value) and isinstance(node.slice, ast.Tuple) \
            and [ast.unparse(e) for e in node.slice.elts] == [":", "None"]:
        yield "broadcast", f"{ast.unparse(node)} -> {node.value.id}", lambda n: _become(n, n.value.id)


def op_merge_factors(node):
    """alpha, beta = exp(m_a - shift), exp(m_b - shift): inverted, or left out (ones)."""
    if isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple) and \
            all(isinstance(e, ast.Call) and _is_call(e, "exp") for e in node.value.elts):
        args = [ast.unparse(e.args[0]) for e in node.value.elts]
        yield "rescale", "rescale factors inverted: exp(-(m_a - m)), exp(-(m_b - m))", lambda n: setattr(
            n, "value", ast.parse(", ".join(f"np.exp(-({a}))" for a in args), mode="eval").body)
        yield "rescale", "no rescale: factors of 1", lambda n: setattr(
            n, "value", ast.parse(", ".join(f"np.ones(np.shape({a}))" for a in args), mode="eval").body)


def op_merge_return(node):
    """The merged state returned with o not rescaled, o normalised, or the shift for m."""
    if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and len(node.value.elts) == 3:
        m, l, o = (ast.unparse(e) for e in node.value.elts)
        yield "rescale", "o not rescaled: o_a + o_b", lambda n: n.value.elts.__setitem__(
            2, ast.parse("o_a + o_b", mode="eval").body)
        yield "normalisation", "o divided by l", lambda n: n.value.elts.__setitem__(
            2, ast.parse(f"({o}) / ({l})[:, None]", mode="eval").body)
        yield "guard", "the shift returned for m", lambda n: n.value.elts.__setitem__(
            0, ast.parse("shift", mode="eval").body)


EXERCISE_OPERATORS = {
    "merge_softmax_states": (op_merge_max, op_merge_guard, op_merge_new_axis, op_merge_factors,
                             op_merge_return),
}


def _opted_in_operators(fn) -> tuple:
    """The PyTorch operators for a function that calls torch, and the operators its exercise
    opts into."""
    return _torch_operators(fn) + EXERCISE_OPERATORS.get(fn.name, ())


NAMES["merge_softmax_states"] = dict(_COMMON, **{
    "guard": ("nan for two empty blocks",),
    "rescale": ("no rescale", "output not rescaled", "rescale factor inverted"),
    "normalisation": ("normalised output",),
})
NAMES["merge_softmax_states"]["guard"] += ("shift returned for m",)
