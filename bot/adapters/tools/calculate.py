"""calculate(expression): safe arithmetic with simpleeval (an AST walker, never eval)."""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

import simpleeval

from bot.core.tools import Lang, ToolError, ToolSpec, short

MAX_EXPRESSION = 300
MAX_EXPONENT = 1000
MAX_RESULT_BITS = 100_000


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
} | {"abs": abs, "round": round, "min": min, "max": max}  # fmt: skip
NAMES = {"pi": math.pi, "e": math.e, "tau": math.tau}


def evaluate(expression: str) -> str:
    """The value of an arithmetic expression as text; ToolError for anything else."""
    if len(expression) > MAX_EXPRESSION:
        raise ToolError(f"The expression is longer than {MAX_EXPRESSION} characters.")
    evaluator = simpleeval.SimpleEval(operators=OPERATORS, functions=FUNCTIONS, names=NAMES)
    try:
        value = evaluator.eval(_normalized(expression))
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
    spec = ToolSpec(
        "calculate",
        "Evaluate an arithmetic expression exactly, e.g. 0.175 * 2340 or sqrt(2) ** 3. "
        "Use it for any arithmetic instead of computing in your head.",
        {
            "type": "object",
            "properties": {"expression": {"type": "string"}},
            "required": ["expression"],
        },
    )

    def status(self, args: Mapping[str, Any], lang: Lang) -> str:
        label = "Считаю" if lang == "ru" else "Calculating"
        return f"🧮 {label}: {short(args.get('expression', ''))}…"

    async def run(self, args: Mapping[str, Any]) -> str:
        expression = str(args["expression"])
        return f"{expression} = {evaluate(expression)}"
