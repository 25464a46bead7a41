"""A one-variable expression language: parse, evaluate, and differentiate exactly.

Grammar (EBNF; spaces, tabs and newlines between tokens are ignored)::

    expression = term , { ( "+" | "-" ) , term } ;
    term       = unary , { ( "*" | "/" ) , unary } ;
    unary      = ( "-" | "+" ) , unary | power ;
    power      = atom , [ "**" , unary ] ;
    atom       = number | "x" | "pi" | "e"
               | function , "(" , expression , ")"
               | "(" , expression , ")" ;
    function   = "sin" | "cos" | "tan" | "exp" | "log" | "sqrt" | "abs" | "tanh" | "sigmoid" ;
    number     = ( digits , [ "." , [ digits ] ] | "." , digits ) , [ exponent ] ;
    exponent   = ( "e" | "E" ) , [ "+" | "-" ] , digits ;

As in Python, ``**`` is right-associative and binds tighter than a unary sign on its left:
``-x**2 == -(x**2)``, ``2**3**2 == 512``, and ``2**-x`` is allowed. ``log`` is the natural
logarithm.

The user's text never reaches eval, exec, compile or ast: a hand-written tokenizer accepts only
ASCII numbers, the names above, ``+ - * / ** ( )`` and whitespace, and a recursive-descent
parser builds a tree of immutable nodes from them.

Limits; each refusal raises ExpressionError, whose message says what and at which position:

- ``max_length`` (default 200): characters of input.
- ``max_depth`` (default 32, at most MAX_DEPTH_LIMIT): nesting depth, where every parenthesis
  or function call, every unary sign and every ``**`` opens one level.
- MAX_TREE_HEIGHT: operations chained one after another (``x+x+...``), so that evaluating and
  differentiating the tree stays far inside Python's recursion limit.
- Constant subexpressions are folded at parse time in float64 and must be finite:
  ``10**400``, ``9**9**9**9``, ``1e999``, ``1/0``, ``log(0)`` and ``sqrt(-1)`` are refused.
  Every power is a float operation, so none can hang; ``x**1e9`` is accepted and evaluates to
  inf or 0 away from ``|x| = 1``, like float arithmetic does.

Evaluation never raises and never warns: values outside a function's domain or beyond float
range come back as nan or inf for the caller to inspect.

The derivative of ``abs`` uses an internal ``sign`` function, which the parser does not accept
but ``str(expression.derivative())`` may show.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import ClassVar, Literal, NamedTuple, TypeAlias, assert_never, cast, overload

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

MAX_DEPTH_LIMIT = 100  # the parser spends about five Python frames per parenthesis level
MAX_TREE_HEIGHT = 64  # derivative trees grow to about three times this; see the tests


class ExpressionError(ValueError):
    """The text is not a valid expression; ``position`` is the offending character's index."""

    position: int | None

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


# ---------------------------------------------------------------------------------------------
# The tree. Nodes are immutable, so derivative trees share subtrees with the tree they came from.

BinaryOp = Literal["+", "-", "*", "/", "**"]


@dataclass(frozen=True, slots=True)
class Num:
    value: float
    symbol: str = field(default="", compare=False)  # "pi" or "e" prints as written
    height: ClassVar[int] = 1


@dataclass(frozen=True, slots=True)
class Var:
    height: ClassVar[int] = 1


@dataclass(frozen=True, slots=True)
class Neg:
    arg: Node
    height: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "height", self.arg.height + 1)


@dataclass(frozen=True, slots=True)
class Bin:
    op: BinaryOp
    left: Node
    right: Node
    height: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "height", max(self.left.height, self.right.height) + 1)


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    arg: Node
    height: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "height", self.arg.height + 1)


Node: TypeAlias = Num | Var | Neg | Bin | Call


# ---------------------------------------------------------------------------------------------
# Evaluation, always on float64 arrays (0-d for a scalar) so that numpy, not Python, does the
# arithmetic: 1/0 gives inf instead of raising ZeroDivisionError.


def _sigmoid(u: Array) -> Array:
    # exp(-log(1 + e^-u)) never overflows and keeps full relative precision in both tails.
    result: Array = np.exp(-np.logaddexp(0.0, -u))
    return result


_FUNCTIONS: Mapping[str, Callable[[Array], Array]] = MappingProxyType(
    {
        "sin": np.sin,
        "cos": np.cos,
        "tan": np.tan,
        "exp": np.exp,
        "log": np.log,
        "sqrt": np.sqrt,
        "abs": np.abs,
        "tanh": np.tanh,
        "sigmoid": _sigmoid,
        "sign": np.sign,  # only produced by differentiating abs
    }
)
USER_FUNCTIONS = frozenset(_FUNCTIONS) - {"sign"}
CONSTANTS: Mapping[str, float] = MappingProxyType({"pi": math.pi, "e": math.e})

_BINARY: Mapping[str, Callable[[Array, Array], Array]] = MappingProxyType(
    {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "**": np.power}
)


def _eval(node: Node, x: Array, memo: dict[int, Array]) -> Array:
    # Derivative trees share subtrees (the product rule reuses both factors); evaluating each
    # shared node once keeps the cost linear in the number of distinct nodes, not exponential
    # in depth. Nodes are alive for the whole evaluation, so their ids are stable keys.
    known = memo.get(id(node))
    if known is not None:
        return known
    match node:
        case Num(value):
            result = np.asarray(value, dtype=np.float64)
        case Var():
            result = x
        case Neg(arg):
            result = np.negative(_eval(arg, x, memo))
        case Bin(op, left, right):
            result = _BINARY[op](_eval(left, x, memo), _eval(right, x, memo))
        case Call(name, arg):
            result = _FUNCTIONS[name](_eval(arg, x, memo))
        case _:
            assert_never(node)
    memo[id(node)] = result
    return result


def _evaluate(node: Node, x: float | Array) -> float | Array:
    points = np.asarray(x, dtype=np.float64)
    # Always a 1-d array, never 0-d: numpy takes scalar fast paths for 0-d operands (b**0.5
    # becomes sqrt(b)) that round differently, and a scalar must get the same value it would
    # get as one element of an array.
    flat = points.reshape(-1)
    with np.errstate(all="ignore"):
        result = _eval(node, flat, {})
    # A constant expression still gives one value per point.
    values = np.broadcast_to(result, flat.shape).reshape(points.shape)
    if isinstance(x, np.ndarray):
        return np.array(values, dtype=np.float64)  # a fresh, writable array
    return float(values)


def _constant(node: Node) -> float:
    return float(_evaluate(node, 0.0))


# ---------------------------------------------------------------------------------------------
# Builders. `_fold` only replaces all-constant nodes by their value, which keeps the parsed tree
# exactly as written; the simplifying ones below it also drop 0*, 1*, +0 and the like, which
# is safe in derivative trees and makes them read like a hand-written derivative.


def _fold(node: Neg | Bin | Call) -> Node:
    match node:
        case Neg(Num(value)):
            return Num(-value)
        case Bin(_, Num(), Num()) | Call(_, Num()):
            return Num(_constant(node))
    return node


def _is(node: Node, value: float) -> bool:
    return isinstance(node, Num) and node.value == value


def _neg(a: Node) -> Node:
    return a.arg if isinstance(a, Neg) else _fold(Neg(a))


def _negated(a: Node) -> Node | None:
    """-a without a new minus sign when a visibly carries one (-u, -2, -2 * u), else None."""
    match a:
        case Neg(arg):
            return arg
        case Num(value) if value < 0:
            return Num(-value)
        case Bin("*" | "/" as op, left, right):
            left_negated = _negated(left)
            return None if left_negated is None else Bin(op, left_negated, right)
    return None


def _add(a: Node, b: Node) -> Node:
    if _is(a, 0):
        return b
    if _is(b, 0):
        return a
    b_negated = _negated(b)
    if b_negated is not None:
        return _sub(a, b_negated)  # a - b reads better than a + (-b), and is the same float
    return _fold(Bin("+", a, b))


def _sub(a: Node, b: Node) -> Node:
    if _is(b, 0):
        return a
    if _is(a, 0):
        return _neg(b)
    b_negated = _negated(b)
    if b_negated is not None:
        return _add(a, b_negated)
    return _fold(Bin("-", a, b))


def _mul(a: Node, b: Node) -> Node:
    if _is(a, 0) or _is(b, 0):
        return Num(0.0)
    if _is(a, 1) or _is(b, 1):
        return b if _is(a, 1) else a
    if isinstance(a, Neg) or isinstance(b, Neg) or _is(a, -1) or _is(b, -1):
        return _neg(_mul(_neg(a), b) if isinstance(a, Neg) or _is(a, -1) else _mul(a, _neg(b)))
    if isinstance(b, Num) and not isinstance(a, Num):
        a, b = b, a  # constant factors first: 3 * x reads better than x * 3
    return _fold(Bin("*", a, b))


def _div(a: Node, b: Node) -> Node:
    if _is(b, 1):
        return a
    if _is(a, 0):
        return Num(0.0)
    return _fold(Bin("/", a, b))


def _pow(a: Node, b: Node) -> Node:
    if _is(b, 1):
        return a
    if _is(b, 0):
        return Num(1.0)
    return _fold(Bin("**", a, b))


def _call(name: str, a: Node) -> Node:
    return _fold(Call(name, a))


# ---------------------------------------------------------------------------------------------
# Differentiation: symbolic, one rule per node type, with the chain rule applied at each call.


def _derive(node: Node) -> Node:
    match node:
        case Num():
            return Num(0.0)
        case Var():
            return Num(1.0)
        case Neg(arg):
            return _neg(_derive(arg))
        case Bin(op, left, right):
            return _derive_binary(op, left, right)
        case Call(name, arg):
            return _derive_call(name, arg)
    assert_never(node)


def _derive_binary(op: BinaryOp, u: Node, v: Node) -> Node:
    du, dv = _derive(u), _derive(v)
    match op:
        case "+":
            return _add(du, dv)
        case "-":
            return _sub(du, dv)
        case "*":
            return _add(_mul(du, v), _mul(u, dv))
        case "/" if _is(dv, 0):
            return _div(du, v)
        case "/":
            return _div(_sub(_mul(du, v), _mul(u, dv)), _pow(v, Num(2.0)))
        case "**" if isinstance(v, Num):
            # The power rule also holds for negative u, where the general rule needs log(u).
            return _mul(_mul(v, _pow(u, Num(v.value - 1.0))), du)
        case "**":
            # d(u**v) = u**v * (v' log u + v u'/u)
            return _mul(_pow(u, v), _add(_mul(dv, _call("log", u)), _div(_mul(v, du), u)))
    assert_never(op)


def _derive_call(name: str, u: Node) -> Node:
    # u' goes first, as in "3 * cos(3 * x)", so products nest to the left and print bare.
    du = _derive(u)
    match name:
        case "sin":
            return _mul(du, _call("cos", u))
        case "cos":
            return _neg(_mul(du, _call("sin", u)))
        case "tan":
            return _div(du, _pow(_call("cos", u), Num(2.0)))
        case "exp":
            return _mul(du, _call("exp", u))
        case "log":
            return _div(du, u)
        case "sqrt":
            return _div(du, _mul(Num(2.0), _call("sqrt", u)))
        case "abs":
            return _mul(du, _call("sign", u))
        case "tanh":
            return _mul(du, _sub(Num(1.0), _pow(_call("tanh", u), Num(2.0))))
        case "sigmoid":
            s = _call("sigmoid", u)
            return _mul(_mul(du, s), _sub(Num(1.0), s))
        case "sign":
            return Num(0.0)  # almost everywhere; the jump at 0 has no derivative
    raise AssertionError(f"no derivative rule for {name!r}")


# ---------------------------------------------------------------------------------------------
# Printing with the fewest parentheses that keep the grammar's precedence.

_PRECEDENCE: Mapping[str, int] = MappingProxyType({"+": 1, "-": 1, "*": 2, "/": 2, "**": 4})
_UNARY = 3
_ATOM = 5


def _precedence(node: Node) -> int:
    match node:
        case Num(value):
            return _UNARY if value < 0 else _ATOM
        case Neg():
            return _UNARY
        case Bin(op, _, _):
            return _PRECEDENCE[op]
    return _ATOM


def _format_number(value: float) -> str:
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"  # 1/-0 is -inf: keep the sign
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def _wrap(node: Node, parenthesise: bool) -> str:
    text = _render(node)
    # A leading sign after another sign or operator, as in "x - -2 * x", is legal but hard to read.
    return f"({text})" if parenthesise or text.startswith("-") else text


def _needs_sign_parens(arg: Node, text: str) -> bool:
    return _precedence(arg) in (1, _UNARY) or text.startswith("-")


def _render(node: Node) -> str:
    match node:
        case Num(value, symbol):
            return symbol or _format_number(value)
        case Var():
            return "x"
        case Neg(arg):
            # -(a * b) prints as -a * b: the value is the same, as negation is exact.
            text = _render(arg)
            return f"-({text})" if _needs_sign_parens(arg, text) else f"-{text}"
        case Call(name, arg):
            return f"{name}({_render(arg)})"
        case Bin(op, left, right):
            return _render_binary(op, left, right)
    assert_never(node)


def _render_binary(op: BinaryOp, left: Node, right: Node) -> str:
    own = _PRECEDENCE[op]
    if op == "**":
        # Right-associative, and a sign on either side needs parentheses: (-x)**2, 2**(-x).
        return f"{_wrap(left, _precedence(left) <= own)}**{_wrap(right, _precedence(right) < own)}"
    left_text = _render(left)
    if _precedence(left) < own:
        left_text = f"({left_text})"
    # A right operand of equal precedence keeps its parentheses: not even float + and * are
    # associative, so the printed text must parse back to the same tree.
    return f"{left_text} {op} {_wrap(right, _precedence(right) <= own)}"


# ---------------------------------------------------------------------------------------------
# The public expression object.


@dataclass(frozen=True)
class Expression:
    """An immutable parsed expression in x. Build one with parse_expression."""

    text: str
    root: Node = field(repr=False)

    def __str__(self) -> str:
        return _render(self.root)

    @overload
    def value(self, x: float) -> float: ...
    @overload
    def value(self, x: Array) -> Array: ...
    def value(self, x: float | Array) -> float | Array:
        """f(x), elementwise over an array; nan or inf where f is undefined or overflows."""
        return _evaluate(self.root, x)

    @overload
    def slope(self, x: float) -> float: ...
    @overload
    def slope(self, x: Array) -> Array: ...
    def slope(self, x: float | Array) -> float | Array:
        """f'(x) from the differentiated tree (exact, no finite differences), like value()."""
        return _evaluate(self._slope_root, x)

    def derivative(self) -> Expression:
        """f' as an expression of its own; its text is the readable printed tree."""
        return Expression(_render(self._slope_root), self._slope_root)

    @cached_property
    def _slope_root(self) -> Node:
        # Computed once: gradient descent asks for the slope at every step.
        return _derive(self.root)


# ---------------------------------------------------------------------------------------------
# Tokenizer.


class _Token(NamedTuple):
    kind: Literal["num", "name", "op", "end"]
    text: str
    pos: int


_TOKEN = re.compile(
    r"""(?P<space>[ \t\r\n]+)
      | (?P<num>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>\*\*|[-+*/()])""",
    re.VERBOSE,
)
_NAMES = frozenset({"x", *CONSTANTS, *USER_FUNCTIONS})
_HINTS: Mapping[str, str] = MappingProxyType(
    {
        ",": " (a function takes exactly one argument)",
        "^": " (write powers as **)",
        ".": " (attribute access is not allowed)",
        "'": " (strings are not allowed)",
        '"': " (strings are not allowed)",
    }
)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        found = _TOKEN.match(text, pos)
        if found is None:
            char = text[pos]
            raise ExpressionError(
                f"unexpected character {char!r} at position {pos}{_HINTS.get(char, '')}", pos
            )
        match found.lastgroup:
            case "name" if found.group() not in _NAMES:
                raise _unknown_name(found.group(), pos)
            case "num" | "name" | "op" as kind:
                tokens.append(_Token(kind, found.group(), pos))
        pos = found.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _unknown_name(name: str, pos: int) -> ExpressionError:
    allowed = ", ".join(sorted(USER_FUNCTIONS))
    return ExpressionError(
        f"unknown name {name!r} at position {pos}; the variable is x, the constants are pi "
        f"and e, the functions are {allowed}",
        pos,
    )


def _describe(token: _Token) -> str:
    if token.kind == "end":
        return "the end of the expression"
    if token.kind == "name":
        return f"name {token.text!r}"
    return repr(token.text)


# ---------------------------------------------------------------------------------------------
# Parser: one method per grammar rule.


class _Parser:
    def __init__(self, text: str, max_depth: int) -> None:
        self._text = text
        self._tokens = _tokenize(text)
        self._index = 0
        self._depth = 0
        self._max_depth = max_depth

    def parse(self) -> Node:
        node = self._expression()
        token = self._peek()
        if token.kind != "end":
            raise self._unexpected(token, "an operator or the end of the expression")
        return node

    def _peek(self) -> _Token:
        return self._tokens[self._index]

    def _advance(self) -> _Token:
        token = self._tokens[self._index]
        if token.kind != "end":  # the end token stays put, so errors can point at it
            self._index += 1
        return token

    def _at_op(self, *ops: str) -> bool:
        token = self._peek()
        return token.kind == "op" and token.text in ops

    def _unexpected(self, token: _Token, expected: str) -> ExpressionError:
        found = _describe(token)
        return ExpressionError(
            f"expected {expected} but found {found} at position {token.pos}", token.pos
        )

    def _enter(self, token: _Token) -> None:
        self._depth += 1
        if self._depth > self._max_depth:
            raise ExpressionError(
                f"expression nested deeper than {self._max_depth} levels at position {token.pos}",
                token.pos,
            )

    def _leave(self) -> None:
        self._depth -= 1

    def _expression(self) -> Node:
        start = self._peek().pos
        node = self._term()
        while self._at_op("+", "-"):
            op = self._advance()
            node = self._binary(op, node, self._term(), start)
        return node

    def _term(self) -> Node:
        start = self._peek().pos
        node = self._unary()
        while self._at_op("*", "/"):
            op = self._advance()
            node = self._binary(op, node, self._unary(), start)
        return node

    def _unary(self) -> Node:
        if not self._at_op("+", "-"):
            return self._power()
        sign = self._advance()
        self._enter(sign)
        operand = self._unary()
        self._leave()
        return operand if sign.text == "+" else _fold(Neg(operand))

    def _power(self) -> Node:
        start = self._peek().pos
        base = self._atom()
        if not self._at_op("**"):
            return base
        op = self._advance()
        self._enter(op)
        exponent = self._unary()
        self._leave()
        return self._binary(op, base, exponent, start)

    def _atom(self) -> Node:
        token = self._advance()
        if token.kind == "num":
            return self._number(token)
        if token.kind == "name":
            return self._name(token)
        if token.kind == "op" and token.text == "(":
            self._enter(token)
            node = self._expression()
            self._close(token)
            self._leave()
            return node
        raise self._unexpected(token, "a number, x, a constant, a function or '('")

    def _number(self, token: _Token) -> Node:
        value = float(token.text)  # the token pattern admits only what float() accepts
        if not math.isfinite(value):
            raise ExpressionError(
                f"number {token.text!r} is too large at position {token.pos}", token.pos
            )
        return Num(value)

    def _name(self, token: _Token) -> Node:
        if token.text == "x":
            return Var()
        if token.text in CONSTANTS:
            return Num(CONSTANTS[token.text], token.text)
        return self._call(token)  # the tokenizer lets no other name through

    def _call(self, name: _Token) -> Node:
        opening = self._advance()
        if opening.kind != "op" or opening.text != "(":
            raise self._unexpected(opening, f"'(' after the function {name.text!r}")
        self._enter(opening)
        if self._at_op(")"):
            position = self._peek().pos
            raise ExpressionError(
                f"function {name.text!r} needs one argument at position {position}", position
            )
        arg = self._expression()
        self._close(opening)
        self._leave()
        return self._checked(_fold(Call(name.text, arg)), name.pos)

    def _close(self, opening: _Token) -> None:
        token = self._advance()
        if token.kind != "op" or token.text != ")":
            raise self._unexpected(token, f"')' to close the '(' at position {opening.pos}")

    def _binary(self, op: _Token, left: Node, right: Node, start: int) -> Node:
        node = self._checked(_fold(Bin(cast(BinaryOp, op.text), left, right)), start)
        if node.height > MAX_TREE_HEIGHT:
            raise ExpressionError(
                f"more than {MAX_TREE_HEIGHT} operations chained together at position {op.pos}",
                op.pos,
            )
        return node

    def _checked(self, node: Node, start: int) -> Node:
        """Refuse a folded constant that is inf or nan, quoting the source text it came from."""
        if isinstance(node, Num) and not math.isfinite(node.value):
            source = self._text[start : self._peek().pos].strip()
            raise ExpressionError(
                f"constant {source} is not a finite number ({node.value}) at position {start}",
                start,
            )
        return node


def parse_expression(text: str, *, max_length: int = 200, max_depth: int = 32) -> Expression:
    """Parse text into an Expression in x, or raise ExpressionError saying what and where.

    max_length caps the characters of text; max_depth caps nesting (parentheses, function
    calls, unary signs, ``**``) and must lie in 1..MAX_DEPTH_LIMIT.
    """
    if not 1 <= max_depth <= MAX_DEPTH_LIMIT:
        raise ValueError(f"max_depth must be between 1 and {MAX_DEPTH_LIMIT}, not {max_depth}")
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text, not {type(text).__name__}")
    if len(text) > max_length:
        raise ExpressionError(
            f"expression is {len(text)} characters long, more than the limit of {max_length}, "
            f"at position {max_length}",
            max_length,
        )
    if not text.strip(" \t\r\n"):
        raise ExpressionError("empty expression at position 0", 0)
    return Expression(text, _Parser(text, max_depth).parse())
