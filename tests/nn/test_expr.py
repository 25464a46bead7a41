"""The expression language: values, exact derivatives, precedence, limits and hostile input."""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.nn.expr import (
    MAX_DEPTH_LIMIT,
    MAX_TREE_HEIGHT,
    Expression,
    ExpressionError,
    parse_expression,
)

POINTS = (-2.5, -1.0, -0.3, 0.0, 0.4, 1.0, 2.7)


def sigmoid(u: float) -> float:
    return 1.0 / (1.0 + math.exp(-u))


def sign(u: float) -> float:
    return math.copysign(1.0, u) if u != 0 else 0.0


# ---------------------------------------------------------------------------------------------
# The article's example


def test_article_parabola_value_and_slope() -> None:
    f = parse_expression("(x + 2)**2")
    assert f.value(0.0) == 4.0
    assert f.slope(0.0) == 4.0
    assert f.slope(-4.0) == -4.0
    assert f.slope(-2.0) == 0.0
    assert str(f.derivative()) == "2 * (x + 2)"


def test_text_is_kept_and_str_is_the_printed_tree() -> None:
    f = parse_expression("(x+2)  **2")
    assert f.text == "(x+2)  **2"
    assert str(f) == "(x + 2)**2"


# ---------------------------------------------------------------------------------------------
# Exact derivatives against hand-derived formulas

HAND_DERIVED: list[tuple[str, Callable[[float], float], Callable[[float], float]]] = [
    (
        "sin(x)**2 + exp(-x/2)",
        lambda x: math.sin(x) ** 2 + math.exp(-x / 2),
        lambda x: 2 * math.sin(x) * math.cos(x) - 0.5 * math.exp(-x / 2),
    ),
    (
        "sigmoid(3*x - 1)",
        lambda x: sigmoid(3 * x - 1),
        lambda x: 3 * sigmoid(3 * x - 1) * (1 - sigmoid(3 * x - 1)),
    ),
    ("log(1 + x**2)", lambda x: math.log(1 + x**2), lambda x: 2 * x / (1 + x**2)),
    (
        "sqrt(abs(x)+1)*tanh(x)",
        lambda x: math.sqrt(abs(x) + 1) * math.tanh(x),
        lambda x: (
            sign(x) / (2 * math.sqrt(abs(x) + 1)) * math.tanh(x)
            + math.sqrt(abs(x) + 1) * (1 - math.tanh(x) ** 2)
        ),
    ),
    (
        "tan(x/3) - cos(x)",
        lambda x: math.tan(x / 3) - math.cos(x),
        lambda x: 1 / (3 * math.cos(x / 3) ** 2) + math.sin(x),
    ),
    (
        "x**3 - 2*x + 1/(x**2 + 1)",
        lambda x: x**3 - 2 * x + 1 / (x**2 + 1),
        lambda x: 3 * x**2 - 2 - 2 * x / (x**2 + 1) ** 2,
    ),
    ("-x**2", lambda x: -(x**2), lambda x: -2 * x),
    ("pi * e**x", lambda x: math.pi * math.exp(x), lambda x: math.pi * math.exp(x)),
]


@pytest.mark.parametrize(("text", "f", "df"), HAND_DERIVED, ids=[c[0] for c in HAND_DERIVED])
def test_exact_derivative_matches_hand_derived(
    text: str, f: Callable[[float], float], df: Callable[[float], float]
) -> None:
    expression = parse_expression(text)
    for x in POINTS:
        assert expression.value(x) == pytest.approx(f(x), rel=1e-12, abs=1e-12), x
        assert expression.slope(x) == pytest.approx(df(x), rel=1e-12, abs=1e-12), x


def test_x_to_the_x_uses_the_general_power_rule() -> None:
    expression = parse_expression("x**x")
    for x in (0.1, 0.5, 1.0, 2.0, 3.3):
        assert expression.value(x) == pytest.approx(x**x, rel=1e-12)
        assert expression.slope(x) == pytest.approx(x**x * (math.log(x) + 1), rel=1e-12)


def test_constant_exponent_uses_the_power_rule_at_negative_base() -> None:
    # The general rule would need log(x), undefined for x < 0.
    assert parse_expression("x**2").slope(-3.0) == -6.0
    assert parse_expression("x**3").slope(-2.0) == 12.0
    assert parse_expression("(x + 2)**2").slope(-4.0) == -4.0


def test_constant_base_with_variable_exponent() -> None:
    expression = parse_expression("2**x")
    assert expression.slope(3.0) == pytest.approx(8 * math.log(2), rel=1e-12)


@pytest.mark.parametrize(
    "text",
    [
        "sin(x)*cos(2*x)",
        "x/(1+x**2)",
        "exp(sin(x))",
        "sigmoid(x)**3",
        "tanh(2*x)*x",
        "sqrt(x**2+1)",
    ],
)
def test_slope_agrees_with_central_differences(text: str) -> None:
    expression = parse_expression(text)
    h = 1e-6
    for x in POINTS:
        numeric = (expression.value(x + h) - expression.value(x - h)) / (2 * h)
        assert expression.slope(x) == pytest.approx(numeric, rel=1e-6, abs=1e-7), x


def test_derivative_is_an_expression_that_differentiates_again() -> None:
    cubic = parse_expression("x**3")
    second = cubic.derivative().derivative()
    assert isinstance(second, Expression)
    assert second.value(2.0) == 12.0
    assert second.slope(2.0) == 6.0


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("sin(x)", "cos(x)"),
        ("cos(3*x)", "-3 * sin(3 * x)"),
        ("x*x", "x + x"),
        ("5*x + 7", "5"),
        ("log(x)", "1 / x"),
        ("1/x", "-1 / x**2"),
        ("abs(x)", "sign(x)"),
        ("sin(x)**2 + exp(-x/2)", "2 * sin(x) * cos(x) - 0.5 * exp(-x / 2)"),
        ("sigmoid(3*x - 1)", "3 * sigmoid(3 * x - 1) * (1 - sigmoid(3 * x - 1))"),
    ],
)
def test_derivative_reads_like_a_hand_written_one(text: str, printed: str) -> None:
    assert str(parse_expression(text).derivative()) == printed
    assert parse_expression(text).derivative().text == printed


def assert_same_floats(array: object, scalars: list[float]) -> None:
    # Bit for bit: a scalar goes through the same numpy kernels as one element of an array.
    np.testing.assert_array_equal(array, scalars, strict=True)


def test_vectorised_value_and_slope_equal_the_scalar_ones() -> None:
    xs = np.linspace(-3.0, 3.0, 41)
    for text, _, _ in HAND_DERIVED:
        expression = parse_expression(text)
        values, slopes = expression.value(xs), expression.slope(xs)
        assert isinstance(values, np.ndarray) and values.shape == xs.shape
        assert_same_floats(values, [expression.value(float(x)) for x in xs])
        assert_same_floats(slopes, [expression.slope(float(x)) for x in xs])


def test_constant_expression_gives_one_value_per_point() -> None:
    xs = np.array([1.0, 2.0, 3.0])
    assert parse_expression("2 + 3").value(xs).tolist() == [5.0, 5.0, 5.0]
    assert parse_expression("2 + 3").slope(xs).tolist() == [0.0, 0.0, 0.0]
    assert isinstance(parse_expression("2").value(1.0), float)


def test_out_of_domain_gives_nan_or_inf_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(parse_expression("log(x)").value(-1.0))
        assert parse_expression("1/x").value(0.0) == math.inf
        assert parse_expression("exp(x)").value(1000.0) == math.inf
        assert math.isnan(parse_expression("sqrt(x)").slope(-1.0))
        assert parse_expression("x**1e9").value(2.0) == math.inf
        assert parse_expression("x**1e9").value(0.5) == 0.0
        assert np.isnan(parse_expression("log(x)").value(np.array([-1.0, 1.0])))[0]


def test_sigmoid_is_accurate_in_both_tails() -> None:
    sig = parse_expression("sigmoid(x)")
    assert sig.value(-40.0) == pytest.approx(math.exp(-40.0), rel=1e-12)
    assert sig.value(800.0) == 1.0
    assert sig.value(-800.0) == 0.0


# ---------------------------------------------------------------------------------------------
# Precedence and associativity, as in Python


@pytest.mark.parametrize(
    ("text", "x", "expected"),
    [
        ("-x**2", 3.0, -9.0),
        ("(-x)**2", 3.0, 9.0),
        ("2**3**2", 0.0, 512.0),
        ("(2**3)**2", 0.0, 64.0),
        ("1-2-3", 0.0, -4.0),
        ("8/4/2", 0.0, 1.0),
        ("2*3+4*5", 0.0, 26.0),
        ("2+3*4**2", 0.0, 50.0),
        ("--x", 2.0, 2.0),
        ("-+-x", 2.0, 2.0),
        ("- - -x", 2.0, -2.0),
        ("+x", 2.0, 2.0),
        ("2**-1", 0.0, 0.5),
        ("2**-x**2", 1.0, 0.5),
        ("-2**2", 0.0, -4.0),
        ("x*-2", 3.0, -6.0),
        ("1e-3 * 1.5E2 + .5 + 2.", 0.0, 2.65),
        ("sin(pi/2) + log(e)", 0.0, 2.0),
    ],
)
def test_precedence_and_associativity(text: str, x: float, expected: float) -> None:
    assert parse_expression(text).value(x) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    "text", ["x - (x - 1)", "x / (x / 2)", "2 ** x ** 2", "-(x + 1) * 3", "x - -x", "1 / (x + 1)"]
)
def test_printed_tree_parses_back_to_the_same_tree(text: str) -> None:
    expression = parse_expression(text)
    assert parse_expression(str(expression)).root == expression.root


# ---------------------------------------------------------------------------------------------
# Refusals: every one an ExpressionError with a position, and fast

HOSTILE: list[tuple[str, int | None, str]] = [
    ("__import__('os')", 0, "unknown name '__import__'"),
    ("x.real", 1, "'.'"),
    ("lambda: 1", 0, "unknown name 'lambda'"),
    ("'abc'", 0, "strings are not allowed"),
    ("y", 0, "unknown name 'y'"),
    ("os", 0, "unknown name 'os'"),
    ("(" * 40 + "x" + ")" * 40, 32, "nested deeper than 32"),
    ("-" * 40 + "x", 32, "nested deeper than 32"),
    ("x+" * 150 + "x", 200, "limit of 200"),
    ("9**9**9**9", 3, "not a finite number"),
    ("10**400", 0, "constant 10**400 is not a finite number"),
    ("1e999", 0, "too large"),
    ("1/0 + x", 0, "not a finite number"),
    ("", 0, "empty"),
    ("   ", 0, "empty"),
    ("2 +", 3, "end of the expression"),
    (")", 0, "')'"),
    ("(x", 2, "')' to close"),
    ("sin()", 4, "needs one argument"),
    ("sin(1,2)", 5, "exactly one argument"),
    ("sin x", 4, "'(' after the function 'sin'"),
    ("2x", 1, "expected an operator"),
    ("x^2", 1, "write powers as **"),
    ("x²", 1, "unexpected character"),
    ("ｘ", 0, "unexpected character"),
    ("x + 😀", 4, "unexpected character"),
    ("x\x00", 1, "unexpected character '\\x00'"),
    ("[x]", 0, "unexpected character '['"),
    ("x; 1", 1, "unexpected character ';'"),
    ("x = 1", 2, "unexpected character '='"),
    ("sign(x)", 0, "unknown name 'sign'"),
    ("x**" * 40 + "2", 97, "nested deeper than 32"),
]


@pytest.mark.parametrize(
    ("text", "position", "message"), HOSTILE, ids=[repr(h[0])[:30] for h in HOSTILE]
)
def test_hostile_input_is_refused_quickly_with_a_position(
    text: str, position: int | None, message: str
) -> None:
    started = time.perf_counter()
    with pytest.raises(ExpressionError) as raised:
        parse_expression(text)
    assert time.perf_counter() - started < 1.0
    assert raised.value.position == position
    assert message in str(raised.value)
    assert f"at position {position}" in str(raised.value)


def test_limits_are_parameters() -> None:
    deep = "(" * 40 + "x" + ")" * 40
    assert parse_expression(deep, max_depth=41).value(1.5) == 1.5
    long = "x+" * 150 + "x"
    with pytest.raises(ExpressionError, match="operations chained together"):
        parse_expression(long, max_length=1000)
    assert parse_expression("+".join(["x"] * MAX_TREE_HEIGHT), max_length=1000).value(1.0) == 64
    with pytest.raises(ExpressionError, match="limit of 5"):
        parse_expression("x + 10", max_length=5)
    with pytest.raises(ValueError, match="max_depth"):
        parse_expression("x", max_depth=MAX_DEPTH_LIMIT + 1)


def test_non_text_is_refused() -> None:
    with pytest.raises(ExpressionError, match="must be text"):
        parse_expression(42)  # type: ignore[arg-type]


def test_worst_case_inputs_at_the_limits_stay_fast() -> None:
    # Derivative trees share subtrees; evaluating them must not blow up with the depth.
    worst = [
        "/".join(["x"] * MAX_TREE_HEIGHT),
        "*".join(["sin(x)"] * 28),
        "sin(" * 31 + "x" + ")" * 31,
        "**".join(["x"] * 32),
        "(x/" * 31 + "x" + ")" * 31,
    ]
    for text in worst:
        started = time.perf_counter()
        expression = parse_expression(text, max_length=1000)
        expression.slope(np.linspace(0.5, 1.5, 100))
        str(expression.derivative())
        assert time.perf_counter() - started < 1.0, text


# ---------------------------------------------------------------------------------------------
# Fuzzing: parse either succeeds or raises ExpressionError; evaluation never raises or warns

TOKENS = [
    "x", "1", "2.5", "1e3", ".5", "0", "9", "400", "pi", "e", "+", "-", "*", "/", "**",
    "(", ")", " ", "sin(", "cos(", "tan(", "exp(", "log(", "sqrt(", "abs(", "tanh(",
    "sigmoid(", "sin", ",", ".", "e-", "1e", "_",
]  # fmt: skip

grammar_text = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)


def leaf() -> st.SearchStrategy[str]:
    numbers = st.floats(0, 1e3, allow_nan=False).map(repr)
    return st.one_of(st.just("x"), st.just("pi"), st.just("e"), numbers)


def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    functions = st.sampled_from(
        ["sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "sigmoid"]
    )
    ops = st.sampled_from(["+", "-", "*", "/", "**"])
    return st.one_of(
        st.tuples(inner, ops, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(functions, inner).map(lambda t: f"{t[0]}({t[1]})"),
        inner.map(lambda s: f"-{s}"),
    )


well_formed = st.recursive(leaf(), extend, max_leaves=12)


def check_evaluation_never_raises(expression: Expression) -> None:
    xs = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy RuntimeWarning would fail the test
        values, slopes = expression.value(xs), expression.slope(xs)
        scalar_values = [expression.value(float(x)) for x in xs]
        scalar_slopes = [expression.slope(float(x)) for x in xs]
        str(expression.derivative())
    assert_same_floats(values, scalar_values)
    assert_same_floats(slopes, scalar_slopes)


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_parses_or_refuses_with_a_position(text: str) -> None:
    """The documented error with a position inside the text, or an expression that evaluates."""
    try:
        expression = parse_expression(text)
    except ExpressionError as error:
        assert error.position is not None and 0 <= error.position <= len(text)
        return
    check_evaluation_never_raises(expression)


@FUZZ
@given(st.text(max_size=60))
def test_fuzz_arbitrary_text(text: str) -> None:
    check_parses_or_refuses_with_a_position(text)


@FUZZ
@given(grammar_text)
def test_fuzz_text_from_grammar_tokens(text: str) -> None:
    check_parses_or_refuses_with_a_position(text)


@FUZZ
@given(well_formed)
def test_fuzz_well_formed_expressions_evaluate_and_print_back(text: str) -> None:
    try:
        expression = parse_expression(text, max_length=10_000)
    except ExpressionError as error:
        # Only constant folding may refuse a well-formed expression.
        assert "not a finite number" in str(error)
        return
    check_evaluation_never_raises(expression)
    reparsed = parse_expression(str(expression), max_length=10_000)
    xs = np.array([-1.5, 0.25, 2.0])
    assert np.array_equal(reparsed.value(xs), expression.value(xs), equal_nan=True)
