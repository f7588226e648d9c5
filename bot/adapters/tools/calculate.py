"""calculate(expression): arithmetic only, with simpleeval (an AST walker, never eval).

The expression is checked first: numbers, the operators below, the names and functions listed,
nothing else (no attribute, no method, no string). Every operation that could grow without
bound is capped, and `evaluate` runs in a worker process (the job "calculate"), whose CPU and
wall-clock limits end whatever slips through.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

import simpleeval

from bot.core.jobs import JobFailed, JobRunner, JobsBusy
from bot.core.tools import StatusLine, ToolError, ToolSpec, short

MAX_EXPRESSION = 300
MAX_EXPONENT = 1000
MAX_RESULT_BITS = 100_000
MAX_ROUND_DIGITS = 100


def _power(base: Any, exponent: Any) -> Any:
    if isinstance(exponent, int | float) and abs(exponent) > MAX_EXPONENT:
        raise ToolError(f"Exponents above {MAX_EXPONENT} are not allowed.")
    too_big = isinstance(base, int) and isinstance(exponent, int) and exponent > 0
    if too_big and abs(base).bit_length() * exponent > MAX_RESULT_BITS:
        raise ToolError("The result would be too large.")
    return operator.pow(base, exponent)


def _mult(left: Any, right: Any) -> Any:
    if isinstance(left, str | bytes) or isinstance(right, str | bytes):
        raise ToolError("The expression must use numbers only.")
    both_int = isinstance(left, int) and isinstance(right, int)
    if both_int and abs(left).bit_length() + abs(right).bit_length() > MAX_RESULT_BITS:
        raise ToolError("The result would be too large.")
    return operator.mul(left, right)


def _round(number: Any, digits: Any = None) -> Any:
    if digits is not None and (not isinstance(digits, int) or abs(digits) > MAX_ROUND_DIGITS):
        raise ToolError(f"round() takes at most {MAX_ROUND_DIGITS} digits.")
    return round(number) if digits is None else round(number, digits)


OPERATORS: dict[type[ast.AST], Callable[..., Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: _mult,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: _power,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Gt: operator.gt,
    ast.Lt: operator.lt,
    ast.GtE: operator.ge,
    ast.LtE: operator.le,
}
FUNCTIONS: dict[str, Callable[..., Any]] = {
    name: getattr(math, name)
    for name in (
        "sqrt", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh",
        "log", "log10", "log2", "exp", "floor", "ceil", "degrees", "radians", "hypot", "gcd",
    )
} | {"abs": abs, "round": _round, "min": min, "max": max}  # fmt: skip
NAMES = {"pi": math.pi, "e": math.e, "tau": math.tau}
_STRUCTURE = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Load)


def check_arithmetic(tree: ast.AST) -> None:
    """ToolError unless `tree` is arithmetic: numbers, OPERATORS, NAMES and calls of FUNCTIONS
    by name with plain arguments."""
    for node in ast.walk(tree):
        if isinstance(node, _STRUCTURE) or type(node) in OPERATORS:
            continue
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            continue
        if isinstance(node, ast.Name) and (node.id in NAMES or node.id in FUNCTIONS):
            continue
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in FUNCTIONS
            and not node.keywords
            and not any(isinstance(arg, ast.Starred) for arg in node.args)
        ):
            continue
        raise ToolError(
            "Only arithmetic is allowed: numbers, + - * / // % ** ( ), comparisons and the "
            f"functions {', '.join(FUNCTIONS)}; not {_what(node)}."
        )


def _what(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        return "methods or other functions"
    if isinstance(node, ast.Attribute):
        return "attributes"
    if isinstance(node, ast.Tuple):
        return "commas (write numbers without thousands separators)"
    if isinstance(node, ast.Constant):
        return "text or other constants"
    if isinstance(node, ast.Name):
        return f"the name {short(node.id, 20)!r}"
    return type(node).__name__.lower()


def evaluate(expression: str) -> str:
    """The value of an arithmetic expression as text; ToolError for anything else."""
    if len(expression) > MAX_EXPRESSION:
        raise ToolError(f"The expression is longer than {MAX_EXPRESSION} characters.")
    evaluator = simpleeval.SimpleEval(operators=OPERATORS, functions=FUNCTIONS, names=NAMES)
    try:
        tree = ast.parse(_normalized(expression).strip(), mode="eval")
        check_arithmetic(tree)
        value = evaluator.eval(_normalized(expression), previously_parsed=tree.body)
    except ToolError:
        raise
    except ZeroDivisionError:
        raise ToolError("Division by zero.") from None
    except OverflowError:
        raise ToolError("The result is too large for a floating-point number.") from None
    except (simpleeval.InvalidExpression, SyntaxError, TypeError, ValueError, KeyError) as exc:
        raise ToolError(
            f"Cannot evaluate {short(expression, 80)!r} ({type(exc).__name__}). Use numbers "
            "without thousands separators, + - * / // % ** ( ) and functions like sqrt, log, sin."
        ) from None
    return _format(value)


def _normalized(expression: str) -> str:
    # People write 2^10 for a power: as ** it also gets a power's precedence.
    return expression.replace("^", "**").replace("×", "*").replace("÷", "/")


def _format(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        if value.bit_length() > 14_000:  # about 4300 digits, Python's int->str limit
            raise ToolError("The result has too many digits to show.")
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ToolError("The result is not a finite number (too large or undefined).")
        return f"{value:.15g}"
    raise ToolError("The expression must give a number.")


class CalculateTool:
    spec = ToolSpec.one_string(
        "calculate",
        "Evaluate an arithmetic expression exactly, e.g. 0.175 * 2340 or sqrt(2) ** 3. "
        "Use it for any arithmetic instead of computing in your head.",
        "expression",
    )

    def status(self, args: Mapping[str, Any]) -> StatusLine:
        return StatusLine("tool_calculate", short(args.get("expression", "")))

    def __init__(self, jobs: JobRunner) -> None:
        """`jobs` runs `evaluate` in a worker process."""
        self._jobs = jobs

    async def run(self, args: Mapping[str, Any]) -> str:
        expression = str(args["expression"])
        try:
            value = await self._jobs.run("calculate", expression)
        except JobFailed as exc:
            raise ToolError(
                f"The calculation was stopped ({exc.reason}): it is too costly."
            ) from None
        except JobsBusy:
            raise ToolError("The calculator is busy; try again in a moment.") from None
        return f"{expression} = {value}"
