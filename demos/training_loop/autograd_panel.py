"""Autograd made visible: a tiny expression, backward(), and each .grad beside the hand-worked value.

The learner picks an expression from a fixed list and types numbers; nothing they type is
ever evaluated as code. The snippet shown is generated from those numbers and is exactly what
runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

MAX_ABS_VALUE = 1e4


class AutogradInputError(ValueError):
    """A value the panel cannot use; the message is written for the learner."""


@dataclass(frozen=True)
class Variable:
    name: str
    requires_grad: bool
    default: float
    hand_formula: str  # the derivative of the output by this variable, worked out by hand
    hand_value: Callable[[dict[str, float]], float]


@dataclass(frozen=True)
class Expression:
    key: str
    output: str
    code: str  # the right-hand side, in PyTorch
    variables: tuple[Variable, ...]

    @property
    def title(self) -> str:
        return f"{self.output} = {self.code}"


def _dtanh(u: float) -> float:
    return 1 - math.tanh(u) ** 2


EXPRESSIONS: dict[str, Expression] = {
    e.key: e
    for e in (
        Expression(
            "linear",
            "y",
            "w * x + b",
            (
                Variable("w", True, 2.0, "x", lambda v: v["x"]),
                Variable("x", True, 3.0, "w", lambda v: v["w"]),
                Variable("b", True, 1.0, "1", lambda v: 1.0),
            ),
        ),
        Expression(
            "square",
            "z",
            "(a * b + c) ** 2",
            (
                Variable(
                    "a",
                    True,
                    1.0,
                    "2·(a·b + c)·b",
                    lambda v: 2 * (v["a"] * v["b"] + v["c"]) * v["b"],
                ),
                Variable(
                    "b",
                    True,
                    2.0,
                    "2·(a·b + c)·a",
                    lambda v: 2 * (v["a"] * v["b"] + v["c"]) * v["a"],
                ),
                Variable("c", True, 3.0, "2·(a·b + c)", lambda v: 2 * (v["a"] * v["b"] + v["c"])),
            ),
        ),
        Expression(
            "squared_error",
            "loss",
            "(w * x - t) ** 2",
            (
                Variable(
                    "w",
                    True,
                    0.5,
                    "2·(w·x − t)·x",
                    lambda v: 2 * (v["w"] * v["x"] - v["t"]) * v["x"],
                ),
                Variable("x", False, 2.0, "no requires_grad: .grad stays None", lambda v: math.nan),
                Variable("t", False, 3.0, "no requires_grad: .grad stays None", lambda v: math.nan),
            ),
        ),
        Expression(
            "tanh",
            "y",
            "torch.tanh(w * x)",
            (
                Variable(
                    "w", True, 0.5, "(1 − tanh²(w·x))·x", lambda v: _dtanh(v["w"] * v["x"]) * v["x"]
                ),
                Variable(
                    "x", True, 2.0, "(1 − tanh²(w·x))·w", lambda v: _dtanh(v["w"] * v["x"]) * v["w"]
                ),
            ),
        ),
    )
}


@dataclass(frozen=True)
class GradientRow:
    name: str
    value: float
    requires_grad: bool
    torch_grad: float | None
    hand_formula: str
    hand_value: float | None

    @property
    def matches(self) -> bool:
        if self.torch_grad is None or self.hand_value is None:
            return self.torch_grad is None and self.hand_value is None
        return math.isclose(self.torch_grad, self.hand_value, rel_tol=1e-5, abs_tol=1e-6)


@dataclass(frozen=True)
class AutogradResult:
    snippet: str
    output_value: float
    rows: tuple[GradientRow, ...]
    printed: str = ""  # what the snippet's print() line wrote, as Python writes it
    output_name: str = "output"


def _parse_values(expression: Expression, values: list) -> dict[str, float]:
    parsed: dict[str, float] = {}
    for variable, raw in zip(expression.variables, values, strict=False):
        try:
            number = float(raw)
        except (TypeError, ValueError):
            raise AutogradInputError(f"The value of {variable.name} must be a number.") from None
        if not math.isfinite(number) or abs(number) > MAX_ABS_VALUE:
            raise AutogradInputError(
                f"The value of {variable.name} must be a finite number between "
                f"{-MAX_ABS_VALUE:g} and {MAX_ABS_VALUE:g}."
            )
        parsed[variable.name] = number
    missing = [v.name for v in expression.variables if v.name not in parsed]
    if missing:
        raise AutogradInputError(f"Give a value for {', '.join(missing)}.")
    return parsed


def render_snippet(expression: Expression, values: dict[str, float], backward_twice: bool) -> str:
    """The PyTorch code for this expression and these numbers (what the panel runs)."""
    lines = ["import torch", ""]
    for v in expression.variables:
        flag = ", requires_grad=True" if v.requires_grad else ""
        lines.append(f"{v.name} = torch.tensor({values[v.name]!r}{flag})")
    lines.append(f"{expression.output} = {expression.code}")
    if backward_twice:
        lines.append(
            f"{expression.output}.backward(retain_graph=True)  # keep the graph for a second call"
        )
        lines.append(f"{expression.output}.backward()  # .grad adds up: now twice the gradient")
    else:
        lines.append(f"{expression.output}.backward()")
    names = ", ".join(f"{v.name}.grad" for v in expression.variables)
    lines.append(f"print({names})")
    return "\n".join(lines) + "\n"


def compute_gradients(key: str, values: list, backward_twice: bool = False) -> AutogradResult:
    """Run the snippet for expression ``key`` with ``values`` and compare each .grad to the hand value."""
    import torch

    if key not in EXPRESSIONS:
        raise AutogradInputError(f"Unknown expression '{key}'; choose one from the list.")
    expression = EXPRESSIONS[key]
    parsed = _parse_values(expression, values)
    snippet = render_snippet(expression, parsed, backward_twice)
    printed: list[str] = []
    namespace: dict = {
        "torch": torch,
        "print": lambda *args: printed.append(" ".join(str(a) for a in args)),
    }
    exec(
        compile(snippet, "autograd.py", "exec"), namespace
    )  # text built only from floats and fixed code
    times = 2.0 if backward_twice else 1.0
    rows = []
    for v in expression.variables:
        grad = namespace[v.name].grad
        rows.append(
            GradientRow(
                name=v.name,
                value=parsed[v.name],
                requires_grad=v.requires_grad,
                torch_grad=None if grad is None else float(grad),
                hand_formula=(
                    f"2 × ({v.hand_formula})"
                    if backward_twice and v.requires_grad
                    else v.hand_formula
                ),
                hand_value=times * v.hand_value(parsed) if v.requires_grad else None,
            )
        )
    return AutogradResult(
        snippet,
        namespace[expression.output].item(),
        tuple(rows),
        printed="\n".join(printed),
        output_name=expression.output,
    )


def result_markdown(result: AutogradResult) -> str:
    """The comparison table: value, PyTorch's .grad, the hand formula and its value."""

    def fmt(x: float | None) -> str:
        return "None" if x is None else f"{x:.6g}"

    # What the code above prints comes first, so the panel's output is the code's output; the
    # expression's own value follows, labelled as such.
    print_line = result.snippet.rstrip().splitlines()[-1]
    lines = [
        f"`{print_line}` prints:",
        "",
        "```text",
        result.printed,
        "```",
        f"(`{result.output_name}` itself is {result.output_value:.6g}.)",
        "",
        "| tensor | value | requires_grad | `.grad` from PyTorch | by hand | by hand, value | same? |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in result.rows:
        same = "✅" if r.matches else "❌"
        lines.append(
            f"| `{r.name}` | {r.value:g} | {r.requires_grad} | {fmt(r.torch_grad)} | {r.hand_formula} | {fmt(r.hand_value)} | {same} |"
        )
    return "\n".join(lines)
