"""The autograd panel: PyTorch's .grad equals the derivative worked out by hand."""

import pytest

from demos.training_loop.autograd_panel import (
    EXPRESSIONS,
    AutogradInputError,
    compute_gradients,
    result_markdown,
)


@pytest.mark.parametrize("key", list(EXPRESSIONS))
@pytest.mark.parametrize("twice", [False, True])
def test_torch_grad_matches_the_hand_derivation(key, twice):
    values = [1.5, -0.7, 2.25][: len(EXPRESSIONS[key].variables)]
    result = compute_gradients(key, values, twice)
    assert all(row.matches for row in result.rows), result.rows
    assert "❌" not in result_markdown(result)


def test_linear_expression_by_the_numbers():
    result = compute_gradients("linear", [2.0, 3.0, 1.0])
    grads = {row.name: row.torch_grad for row in result.rows}
    assert result.output_value == pytest.approx(7.0)
    assert grads == {"w": pytest.approx(3.0), "x": pytest.approx(2.0), "b": pytest.approx(1.0)}
    assert "requires_grad=True" in result.snippet and "y.backward()" in result.snippet


def test_the_panel_shows_what_the_code_prints():
    """The snippet ends in print(w.grad, ...): the panel shows that line's real output first."""
    result = compute_gradients("linear", [2.0, 3.0, 1.0])
    assert result.printed == "tensor(3.) tensor(2.) tensor(1.)"
    text = result_markdown(result)
    assert text.startswith("`print(w.grad, x.grad, b.grad)` prints:")
    assert "tensor(3.) tensor(2.) tensor(1.)" in text
    assert "Output:" not in text
    assert "`y` itself is 7" in text
    no_grad = compute_gradients("squared_error", [0.5, 2.0, 3.0])
    assert no_grad.printed == "tensor(-8.) None None"


def test_backward_twice_doubles_the_gradient():
    once = compute_gradients("square", [1.0, 2.0, 3.0])
    twice = compute_gradients("square", [1.0, 2.0, 3.0], backward_twice=True)
    for a, b in zip(once.rows, twice.rows, strict=True):
        assert b.torch_grad == pytest.approx(2 * a.torch_grad)


def test_tensors_without_requires_grad_get_no_grad():
    rows = {r.name: r for r in compute_gradients("squared_error", [0.5, 2.0, 3.0]).rows}
    assert rows["x"].torch_grad is None and rows["t"].torch_grad is None
    assert rows["w"].torch_grad == pytest.approx(2 * (0.5 * 2 - 3) * 2)


@pytest.mark.parametrize(
    "values", [["__import__('os')", 1, 1], [float("inf"), 1, 1], [1e9, 1, 1], [None, 1, 1], [1, 2]]
)
def test_only_finite_numbers_are_accepted(values):
    with pytest.raises(AutogradInputError):
        compute_gradients("linear", values)


def test_unknown_expression_is_refused():
    with pytest.raises(AutogradInputError):
        compute_gradients("os.system('ls')", [1, 2, 3])
